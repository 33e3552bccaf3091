"""The deployment file: areas, forums, units, categories, staff and routing of one programme."""

from bot.deployment.importer import DeploymentError, import_file, parse_deployment
from bot.deployment.report import ImportConflicts, ImportReport

__all__ = ["DeploymentError", "ImportConflicts", "ImportReport", "import_file", "parse_deployment"]
