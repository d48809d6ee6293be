"""The weekly security tip: the guidance no check can enforce, a little at a time."""
