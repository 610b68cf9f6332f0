"""Web console served at ``/console`` (static HTML/CSS/ES modules; requests signed in the browser)."""

from cosbeauty.console.app import PREFIX, STATIC_DIR, ConsoleApp, mount_console

__all__ = ["ConsoleApp", "PREFIX", "STATIC_DIR", "mount_console"]
