"""The console adapter: an interactive chat in the terminal, and the scripted simulation."""
