"""Sub-commands of ``nkreader``, one module each (see ``nkreader.cli``)."""
