"""The fleet's Redis records: the Lua that reads and writes them atomically (`scripts`)."""
