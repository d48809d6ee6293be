"""The features, one folder each: their checks, watchers, guard, windows, CLI, events and text."""
