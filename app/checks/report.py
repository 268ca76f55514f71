"""A verdict as text for the terminal (rich markup): what passed, what failed on which small
input, and the hint with the notes' sentence it cites."""

from __future__ import annotations

from typing import Any

from rich.markup import escape


def render_verdict(verdict: dict[str, Any]) -> str:
    """The verdict of `app.checks.engine.run_checks`, readable in a terminal."""
    lines: list[str] = []
    for check in verdict["checks"]:
        mark = "[green]PASS[/green]" if check["passed"] else "[red]FAIL[/red]"
        lines.append(
            f"{mark} [bold]{escape(check['title'])}[/bold] (week {verdict['week']}, "
            f"{check['name']})"
        )
        if wrong := check.get("wrong_interface"):
            lines += [
                f"  [red]✗[/red] returns what the check expects: {escape(wrong['detail'])}",
                f"      on input: {escape(wrong['example'])}",
                f"      Expected: {escape(wrong['interface'])}",
            ]
        for n, prop in enumerate(check["properties"], 1):
            if prop["passed"]:
                lines.append(f"  [green]✓[/green] {escape(prop['name'])}")
                continue
            hint = prop["hint"]
            lines += [
                f"  [red]✗[/red] {escape(prop['name'])}",
                f"      {escape(prop['detail'])}",
                f"      smallest failing input: {escape(prop['example'])}",
                f"      hint: {escape(hint['advice'])} [{n}]",
                (f'      [dim][{n}] {escape(hint["source"])}: "{escape(hint["quote"])}"[/dim]'),
            ]
        if not check["passed"] and not wrong:
            lines.append(f"  [dim]Your file must define: {escape(check['interface'])}[/dim]")
    for missing in verdict["not_checked"]:
        lines.append(
            f"[yellow]NOT CHECKED[/yellow] {missing['name']}: your file does not "
            f"define {', '.join(missing['missing'])}.\n  Expected: "
            f"{escape(missing['interface'])}"
        )
    if verdict["stopped"]:
        lines.append(
            f"[red]STOPPED[/red] ({verdict['stopped']['kind']}): "
            f"{escape(verdict['stopped']['message'])}"
        )
    summary = "all checks pass" if verdict["passed"] else "not yet"
    lines.append(f"\n{summary} - {verdict['seconds']} s, sandbox: {verdict['mechanism'] or '-'}")
    if verdict.get("isolation"):
        lines.append(
            f"[yellow]note:[/yellow] this sandbox leaves open: {escape(verdict['isolation'])}"
        )
    return "\n".join(lines)
