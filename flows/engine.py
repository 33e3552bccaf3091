"""The flow engine: one inbound message in, replies and the next state out.

The engine is channel-neutral and stateless between calls: the caller loads the
persisted ``SessionState``, the engine advances it by one answer (running any
actions and messages that follow without waiting), and the caller commits the
new state together with the replies. Global keywords (menu, back, help,
language) work at every step; stop and start are the caller's, because they
change the contact, not the conversation.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import RTL_LANGUAGES, msg
from bot.i18n.language_menu import language_prompt
from bot.messages import Choice, OutboundMessage
from bot.text import clean, has_words
from flows.answers import format_reference, match_choice, match_word, normalise_reference
from flows.loader import FlowSet
from flows.ports import AreaCandidate, Keyword, Ports, Turn
from flows.schema import (
    ActionStep,
    AreaStep,
    ChoiceStep,
    ConfirmStep,
    GotoStep,
    MessageStep,
    TextStep,
)
from flows.state import SessionState

MAX_AUTO_STEPS = 50
RETRIES_BEFORE_HINT = 3
SHORT_TEXT = 120
NONE_OF_THESE = "__none__"
END = "__end__"  # the pseudo-step that ends a flow (or resumes where a detour began)


class FlowLoopError(RuntimeError):
    """A flow ran more steps without waiting for the person than any real flow does."""


@dataclass
class TurnResult:
    replies: list[OutboundMessage] = field(default_factory=list)
    state: SessionState | None = None
    # The person left a sensitive flow with the quick-exit word: what it said and
    # asked is to be erased (``left`` is the state they left, for its trail).
    quick_exit: bool = False
    left: SessionState | None = None
    # This turn touched a sensitive flow: its replies are protection messages.
    sensitive: bool = False


class _Reply:
    """Collects the replies of one turn in the contact's (possibly changing) language."""

    def __init__(self, ports: Ports, language: str) -> None:
        self.ports = ports
        self.language = language
        self.messages: list[OutboundMessage] = []
        self.sensitive = False

    def text(self, message_id: str, values: dict[str, Any] | None = None) -> str:
        return self.ports.catalogs.text(self.language, message_id, **(values or {}))

    def say(
        self,
        message_id: str,
        values: dict[str, Any] | None = None,
        choices: list[Choice] | tuple[Choice, ...] = (),
    ) -> None:
        self.send(self.text(message_id, values), choices)

    def send(self, text: str, choices: list[Choice] | tuple[Choice, ...] = ()) -> None:
        """Queue a message; texts of one turn are joined into one where possible,
        because on SMS every message costs the person (or the programme) money."""
        last = self.messages[-1] if self.messages else None
        if last is not None and not last.choices and last.language == self.language:
            self.messages[-1] = OutboundMessage(
                text=f"{last.text}\n\n{text}",
                choices=tuple(choices),
                language=last.language,
                rtl=last.rtl,
            )
            return
        self.messages.append(
            OutboundMessage(
                text=text,
                choices=tuple(choices),
                language=self.language,
                rtl=self.language in RTL_LANGUAGES,
            )
        )


class Engine:
    def __init__(self, flows: FlowSet, ports: Ports) -> None:
        self.flows = flows
        self.ports = ports

    # ----------------------------------------------------------------- entry
    async def handle(
        self,
        turn: Turn,
        state: SessionState | None,
        expired: bool,
        start: tuple[str, dict[str, Any]] | None = None,
    ) -> TurnResult:
        """Advance ``state`` by one message; ``start`` begins a flow instead, with its
        first values (a command that opens a flow of its own)."""
        turn.text = clean(turn.text)
        reply = _Reply(self.ports, turn.language or self.ports.default_language)
        reply.sensitive = self.sensitive(state)
        keyword = turn.keyword
        if keyword is None and turn.button is None and start is None:
            keyword = self.ports.keyword(turn.text)
        if keyword == "start":  # START when not stopped (or /start): the main menu
            keyword = "menu"
        if start is not None:
            flow_id, values = start
            fresh = SessionState(flow=flow_id, step=self.flows[flow_id].start)
            fresh.vars.update(values)
            if state is None:  # a conversation begins with this flow (a discreet word...)
                await self._detect_language(turn, reply)
            state = await self._enter(fresh, turn, reply, flow_id, fresh.step)
        elif state is not None and self._quick_exit(turn, state):
            reply.say(msg("protect.neutral"))
            return TurnResult(replies=reply.messages, quick_exit=True, left=state)
        elif turn.edited:
            reply.say(msg("common.edit_ignored"))
            if state is not None:
                self._prompt(state, turn, reply)
        elif state is None:
            if expired:
                reply.say(msg("session.expired"))
            state = await self._start_fresh(turn, reply, keyword)
        elif keyword in ("menu", "back", "help", "language"):
            state = await self._keyword(keyword, turn, state, reply)
        elif turn.media and not turn.text and turn.location is None:
            reply.say(msg("common.text_only"))
            self._prompt(state, turn, reply)
        else:
            state = await self._answer(turn, state, reply)
        return TurnResult(replies=reply.messages, state=state, sensitive=reply.sensitive)

    def sensitive(self, state: SessionState | None) -> bool:
        return (
            state is not None
            and state.flow in self.flows.flows
            and self.flows[state.flow].sensitive
        )

    def _quick_exit(self, turn: Turn, state: SessionState) -> bool:
        """The quick-exit word, in any of the deployment's languages, inside a sensitive
        flow: a person in danger must not have to remember which language it was in."""
        if not self.sensitive(state) or turn.button is not None:
            return False
        catalogs = self.ports.catalogs
        words = catalogs.words_in(self.ports.languages, msg("keyword.quick_exit"))
        return match_word(turn.text, list(words))

    async def _start_fresh(
        self, turn: Turn, reply: _Reply, keyword: Keyword | None
    ) -> SessionState | None:
        menu = self.flows["menu"]
        if keyword != "language":  # asking for the menu of languages gets it
            await self._detect_language(turn, reply)
        if turn.language is None and len(self.ports.languages) > 1:
            state = SessionState(flow="language", step=self.flows["language"].start)
            state.resume = [menu.id, menu.start]
            return await self._enter(state, turn, reply, "language", state.step)
        if turn.language is None:
            turn.language = self.ports.default_language
            values = {"language": turn.language, "detected": True}  # not the person's choice
            await self.ports.run_action("set_language", turn, values)
        flow_id = {"help": "help", "language": "language"}.get(keyword or "", "menu")
        state = SessionState(flow=flow_id, step=self.flows[flow_id].start)
        if flow_id == "language":
            state.resume = [menu.id, menu.start]
        return await self._enter(state, turn, reply, flow_id, state.step)

    async def _detect_language(self, turn: Turn, reply: _Reply) -> None:
        """A conversation begins: answer in the language the message is confidently in,
        saved as detected, with one line on how to change it. A language the person
        chose is never overridden; a detected one is guessed again at the next start,
        so someone first guessed wrong from a greeting is answered right when they write
        a sentence. Not confident: nothing changes (a new contact gets the menu)."""
        if turn.language is not None and not turn.language_detected:
            return
        found = self.ports.detect_language(turn.text)
        if found is None or found == turn.language:
            return
        await self.ports.run_action("set_language", turn, {"language": found, "detected": True})
        turn.language = reply.language = found
        turn.language_detected = True
        reply.say(msg("language.detected_hint"))

    # -------------------------------------------------------------- keywords
    async def _keyword(
        self, keyword: Keyword, turn: Turn, state: SessionState, reply: _Reply
    ) -> SessionState | None:
        if keyword == "menu":
            fresh = SessionState(flow="menu", step=self.flows["menu"].start)
            return await self._enter(fresh, turn, reply, "menu", fresh.step)
        if keyword == "help":
            reply.say(msg("help.keywords"))
            self._prompt(state, turn, reply)
            return state
        if keyword == "language":
            state.resume = [state.flow, state.step]
            state.pending = None
            return await self._enter(state, turn, reply, "language", self.flows["language"].start)
        # back
        state.pending = None
        if len(state.history) < 2:
            reply.say(msg("common.cannot_go_back"))
            self._prompt(state, turn, reply)
            return state
        state.history.pop()
        flow_id, step_id = state.history[-1]
        state.flow, state.step, state.retries = flow_id, step_id, 0
        self._prompt(state, turn, reply)
        return state

    # --------------------------------------------------------------- answers
    async def _answer(self, turn: Turn, state: SessionState, reply: _Reply) -> SessionState | None:
        step = self.flows[state.flow].steps.get(state.step)
        if step is None:  # the flow changed under a live session: start over politely
            reply.say(msg("session.expired"))
            return await self._start_fresh(turn, reply, None)
        next_step: str | None
        if isinstance(step, ChoiceStep):
            next_step = self._answer_choice(step, turn, state, reply)
        elif isinstance(step, ConfirmStep):
            next_step = self._answer_confirm(step, turn, state, reply)
        elif isinstance(step, TextStep):
            next_step = self._answer_text(step, turn, state, reply)
        elif isinstance(step, AreaStep):
            next_step = self._answer_area(step, turn, state, reply)
        else:  # a session never rests on a step that does not wait
            return await self._enter(state, turn, reply, state.flow, state.step)
        if next_step is None:  # not an answer to this step: it was asked again
            return state
        state.retries = 0
        return await self._enter(state, turn, reply, state.flow, next_step)

    def _retry(
        self,
        message_id: str,
        values: dict[str, Any],
        state: SessionState,
        turn: Turn,
        reply: _Reply,
    ) -> None:
        state.retries += 1
        reply.say(message_id, values)
        if state.retries >= RETRIES_BEFORE_HINT:
            reply.say(msg("common.stuck"))
        self._prompt(state, turn, reply)

    def _answer_choice(
        self, step: ChoiceStep, turn: Turn, state: SessionState, reply: _Reply
    ) -> str | None:
        choices = self._choices(step, reply.language)
        picked = match_choice(turn.text, turn.button, choices)
        if picked is None and step.skippable and self._skipped(turn, reply):
            if step.save:
                state.vars[step.save] = state.vars[f"{step.save}_label"] = None
            return step.next or END
        if picked is None:
            self._retry(msg("common.invalid_choice"), {"count": len(choices)}, state, turn, reply)
            return None
        if step.save:
            state.vars[step.save] = picked.value
            state.vars[f"{step.save}_label"] = picked.label
        option = next((o for o in step.options if o.value == picked.value), None)
        target = (option.next if option else None) or step.next
        return target or END

    def _answer_confirm(
        self, step: ConfirmStep, turn: Turn, state: SessionState, reply: _Reply
    ) -> str | None:
        catalogs, language = self.ports.catalogs, reply.language
        picked = match_choice(turn.text, turn.button, self._yes_no(reply))
        if picked is None and match_word(turn.text, catalogs.words(language, msg("keyword.yes"))):
            picked = Choice("yes", "")
        if picked is None and match_word(turn.text, catalogs.words(language, msg("keyword.no"))):
            picked = Choice("no", "")
        if picked is None:
            self._retry(msg("common.invalid_yes_no"), {}, state, turn, reply)
            return None
        if step.save:
            state.vars[step.save] = picked.value
        return step.yes if picked.value == "yes" else step.no

    def _answer_text(
        self, step: TextStep, turn: Turn, state: SessionState, reply: _Reply
    ) -> str | None:
        text = turn.text
        if step.skippable and self._skipped(turn, reply):
            state.vars[step.save] = None
            return step.next or END
        if not text:
            self._retry(msg("common.empty_text"), {}, state, turn, reply)
            return None
        if len(text) > step.max_length:
            values = {"max": step.max_length, "length": len(text)}
            self._retry(msg("common.too_long"), values, state, turn, reply)
            return None
        if step.validate_as == "reference_code":
            reference = normalise_reference(text)
            if reference is None:
                self._retry(msg("status.invalid_code"), {}, state, turn, reply)
                return None
            text = reference
        elif not has_words(text) or len(text) < step.min_length:
            self._retry(msg("common.too_short"), {"min": step.min_length}, state, turn, reply)
            return None
        state.vars[step.save] = text
        state.vars[f"{step.save}_short"] = textwrap.shorten(text, SHORT_TEXT, placeholder="…")
        return step.next or END

    def _skipped(self, turn: Turn, reply: _Reply) -> bool:
        words = self.ports.catalogs.words(reply.language, msg("keyword.skip"))
        return turn.button is None and match_word(turn.text, words)

    def _answer_area(
        self, step: AreaStep, turn: Turn, state: SessionState, reply: _Reply
    ) -> str | None:
        if step.skippable and turn.location is None and self._skipped(turn, reply):
            state.pending = None
            state.vars[step.save] = state.vars[f"{step.save}_name"] = None
            return step.next or END
        if turn.location is not None:
            nearest = self.ports.nearest_area(turn.location, reply.language)
            state.vars["location"] = [turn.location.latitude, turn.location.longitude]
            state.vars[step.save] = nearest.key if nearest else None
            state.vars[f"{step.save}_name"] = (
                nearest.label if nearest else reply.text(msg("area.shared_location"))
            )
            state.pending = None
            return step.next or END
        if state.pending:
            candidates = [Choice(key, label) for key, label in state.pending]
            picked = match_choice(turn.text, turn.button, [*candidates, self._none_choice(reply)])
            if picked is not None and picked.value == NONE_OF_THESE:
                state.pending = None
                self._prompt(state, turn, reply)
                return None
            if picked is not None:
                return self._save_area(step, state, AreaCandidate(picked.value, picked.label))
        match = self.ports.match_area(turn.text, reply.language) if has_words(turn.text) else None
        if match is None or not match.candidates:
            state.pending = None
            self._retry(msg("area.not_found"), {"text": turn.text[:60]}, state, turn, reply)
            return None
        if match.unique:
            return self._save_area(step, state, match.unique)
        state.pending = [[c.key, c.label] for c in match.candidates]
        self._prompt(state, turn, reply)
        return None

    def _save_area(self, step: AreaStep, state: SessionState, area: AreaCandidate) -> str:
        state.pending = None
        state.vars[step.save] = area.key
        state.vars[f"{step.save}_name"] = area.label
        state.vars.pop("location", None)
        return step.next or END

    # ------------------------------------------------------------ advancing
    async def _enter(
        self, state: SessionState, turn: Turn, reply: _Reply, flow_id: str, step_id: str | None
    ) -> SessionState | None:
        for _ in range(MAX_AUTO_STEPS):
            if step_id is None or step_id == END:
                return await self._resume_or_end(state, turn, reply)
            step = self.flows[flow_id].steps[step_id]
            reply.sensitive = reply.sensitive or self.flows[flow_id].sensitive
            if isinstance(step, MessageStep):
                reply.say(step.text, self._values(state))
                step_id = step.next
            elif isinstance(step, ActionStep):
                result = await self.ports.run_action(step.action, turn, state.vars)
                state.vars.update(result.vars)
                if result.language:
                    turn.language = reply.language = result.language
                step_id = step.outcomes.get(result.outcome, step.next)
            elif isinstance(step, GotoStep):
                flow_id = step.flow
                step_id = step.step or self.flows[flow_id].start
            else:
                state.visit(flow_id, step_id)
                state.retries = 0
                self._prompt(state, turn, reply)
                return state
        raise FlowLoopError(f"flow {flow_id} ran {MAX_AUTO_STEPS} steps without waiting")

    async def _resume_or_end(
        self, state: SessionState, turn: Turn, reply: _Reply
    ) -> SessionState | None:
        if state.resume:
            flow_id, step_id = state.resume
            state.resume = None
            return await self._enter(state, turn, reply, flow_id, step_id)
        return None

    # ------------------------------------------------------------- prompting
    def _prompt(self, state: SessionState, turn: Turn, reply: _Reply) -> None:
        step = self.flows[state.flow].steps[state.step]
        values = self._values(state)
        if isinstance(step, AreaStep) and state.pending:
            choices = [Choice(k, label) for k, label in state.pending]
            reply.say(msg("area.which_one"), values, [*choices, self._none_choice(reply)])
        elif isinstance(step, ChoiceStep):
            choices = self._choices(step, reply.language)
            if step.multilingual:
                order = dict.fromkeys([reply.language, *self.ports.languages])
                texts = [self.ports.catalogs.text(lang, step.prompt) for lang in order]
                reply.send(language_prompt(texts, choices), choices)
            else:
                reply.say(step.prompt, values, choices)
        elif isinstance(step, ConfirmStep):
            reply.say(step.prompt, values, self._yes_no(reply))
        elif isinstance(step, TextStep | AreaStep):
            reply.say(step.prompt, values)

    def _choices(self, step: ChoiceStep, language: str) -> list[Choice]:
        if step.options_from:
            return self.ports.options(step.options_from, language)
        catalogs = self.ports.catalogs
        return [Choice(o.value, catalogs.text(language, o.label)) for o in step.options]

    @staticmethod
    def _yes_no(reply: _Reply) -> list[Choice]:
        return [
            Choice("yes", reply.text(msg("common.yes"))),
            Choice("no", reply.text(msg("common.no"))),
        ]

    @staticmethod
    def _none_choice(reply: _Reply) -> Choice:
        return Choice(NONE_OF_THESE, reply.text(msg("area.none_of_these")))

    @staticmethod
    def _values(state: SessionState) -> dict[str, Any]:
        values = dict(state.vars)
        if values.get("reference"):
            values["reference"] = format_reference(values["reference"])
        return values
