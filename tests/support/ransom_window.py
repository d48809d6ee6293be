"""A stand-in for a ransom demand on screen: a plain blue 400x300 window at the top left.

Tk rather than ImageMagick's `display`, which sometimes took longer than the tests allow to map
its window on a loaded machine. Usage: python ransom_window.py  (WM_CLASS "vigie-test-ransom").
"""

import tkinter as tk

root = tk.Tk(className="vigie-test-ransom")
root.title("vigie-test-ransom")
root.geometry("400x300+0+0")
root.configure(background="#0000aa", borderwidth=0, highlightthickness=0)
root.mainloop()
