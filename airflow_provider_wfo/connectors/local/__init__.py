"""The local backends: every target's state under one workspace folder (connection type ``wfo_local``)."""
