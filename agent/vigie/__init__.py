"""Vigie: the cyber-hygiene agent for independent health practices."""

__version__ = "0.1.0"
APP_NAME = "Vigie"
