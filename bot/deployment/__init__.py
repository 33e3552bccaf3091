"""The deployment file: areas, forums, units, categories, staff and routing of one programme."""

from bot.deployment.importer import DeploymentError, ImportReport, import_file, parse_deployment

__all__ = ["DeploymentError", "ImportReport", "import_file", "parse_deployment"]
