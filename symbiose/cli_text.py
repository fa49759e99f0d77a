"""The French face of the ``symbiose`` command: help and usage errors.

typer writes its help and its usage errors in English ("Show this message
and exit.", ``[required]``, ``<int range>``, "Missing option", "No such
command"). The command classes here (given to typer with ``cls=``) say the
same in French: the help option's text, the usage line, the names of the
values (``FICHIER``, ``TEXTE``…) and every usage error, rewritten from the
error's kind and parameter (a value typer checked with pydantic gets the
message of ``explain.validation``, as the API's fields do). The few texts
typer keeps as module constants (panel titles, ``[required]``) are set once
by :func:`install`.
"""

from __future__ import annotations

from typing import Any

import typer
from typer import core as typer_core
from typer import rich_utils

from symbiose.explain.validation import french_message

HELP_TEXT = "Afficher cette aide et quitter."
USAGE_PREFIX = "Utilisation : "
METAVARS = {"str": "TEXTE", "path": "CHEMIN", "int": "N", "int range": "N", "float": "NOMBRE",
            "float range": "NOMBRE"}
_CLICK = typer_core._click  # typer's own copy of click: its exception classes


def install() -> None:
    """French texts for the headings typer keeps as module constants."""
    rich_utils.REQUIRED_LONG_STRING = "[obligatoire]"
    rich_utils.DEFAULT_STRING = "[par défaut : {}]"
    rich_utils.ENVVAR_STRING = "[variable d'environnement : {}]"
    rich_utils.DEPRECATED_STRING = "(obsolète) "
    rich_utils.ARGUMENTS_PANEL_TITLE = "Arguments"
    rich_utils.OPTIONS_PANEL_TITLE = "Options"
    rich_utils.COMMANDS_PANEL_TITLE = "Commandes"
    rich_utils.ERRORS_PANEL_TITLE = "Erreur"
    rich_utils.ABORTED_TEXT = "Interrompu."
    rich_utils.RICH_HELP = "Aide : [blue]{command_path} {help_option}[/]"


def _name(param: Any) -> str:
    if param is None:
        return ""
    if param.param_type_name == "argument":
        return param.metavar or str(param.name).upper()
    return max(param.opts, key=len)


def french_error(exc: Exception, ctx: Any = None) -> str:
    """The French text of a usage error of typer's click."""
    param = getattr(exc, "param", None)
    name = _name(param)
    if isinstance(exc, _CLICK.exceptions.MissingParameter):
        if param is not None and param.param_type_name == "argument":
            return f"argument {name} manquant."
        return f"option {name} manquante." if name else "paramètre manquant."
    if isinstance(exc, _CLICK.exceptions.NoSuchOption):
        text = f"option inconnue : {exc.option_name}"
        if exc.possibilities:
            text += f" (options possibles : {', '.join(sorted(exc.possibilities))})"
        return text + "."
    if isinstance(exc, _CLICK.exceptions.BadParameter):
        cause = exc.__cause__
        errors = cause.errors() if hasattr(cause, "errors") else []
        detail = "; ".join(french_message(e) for e in errors) if errors else "valeur invalide"
        return f"valeur invalide pour {name} : {detail}." if name else f"valeur invalide : {detail}."
    if isinstance(exc, _CLICK.exceptions.BadOptionUsage):
        option = getattr(exc, "option_name", "") or ""
        if "requires" in exc.message or "argument" in exc.message:
            return f"l'option {option} attend une valeur."
        if "does not take a value" in exc.message:
            return f"l'option {option} ne prend pas de valeur."
        return f"option {option} mal utilisée."
    message = str(getattr(exc, "message", "") or exc)
    if message.startswith("No such command"):
        return f"commande inconnue : {message.removeprefix('No such command ').rstrip('.')}."
    if message.startswith("Got unexpected extra argument"):
        extra = message.partition("(")[2].rstrip(")")
        return f"argument(s) en trop : {extra}."
    if message.startswith("Missing command"):
        return "commande manquante."
    return "utilisation incorrecte de la commande."


class _French:
    """What the French command and group share: help option, metavars, usage line, usage errors."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
            option.metavar = ""
        return option

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def _french_metavars(self) -> None:
        for param in self.params:  # type: ignore[attr-defined]
            if param.metavar is not None:
                continue
            if getattr(param, "is_flag", False):
                param.metavar = ""
                continue
            kind = str(param.display_type(None)).strip("<>")
            if param.param_type_name == "argument":
                param.metavar = str(param.name).upper()
            elif kind in METAVARS:
                param.metavar = METAVARS[kind]
        for param in self.params:  # type: ignore[attr-defined]
            if param.param_type_name == "argument":  # its kind in the help, in French
                kind = str(param.display_type(None)).strip("<>")
                french = METAVARS.get(kind.removeprefix("list[").removesuffix("]"), kind).lower()
                param.display_type_rich = lambda ctx=None, french=french: f"<{french}>"

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        self._french_metavars()
        try:
            return super().make_context(info_name, args, parent=parent, **extra)  # type: ignore[misc]
        except _CLICK.exceptions.NoArgsIsHelpError:
            raise
        except _CLICK.exceptions.UsageError as exc:
            raise _CLICK.exceptions.UsageError(french_error(exc), ctx=exc.ctx) from None


class FrenchCommand(_French, typer_core.TyperCommand):
    """A ``symbiose`` command that speaks French."""


class FrenchGroup(_French, typer_core.TyperGroup):
    """A group of ``symbiose`` commands that speaks French (its sub-commands' errors included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.subcommand_metavar == "COMMAND [ARGS]...":
            self.subcommand_metavar = "COMMANDE [ARGUMENTS]..."

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except _CLICK.exceptions.UsageError as exc:
            raise _CLICK.exceptions.UsageError(french_error(exc), ctx=ctx) from None


def french_app(**kwargs: Any) -> typer.Typer:
    """A ``typer.Typer`` whose group and commands speak French."""
    app = typer.Typer(cls=FrenchGroup, **kwargs)
    command = app.command

    def french_command(*args: Any, **options: Any) -> Any:
        options.setdefault("cls", FrenchCommand)
        return command(*args, **options)

    app.command = french_command  # type: ignore[method-assign]
    return app
