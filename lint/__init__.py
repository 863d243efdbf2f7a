"""Static checks of policies for drafters: `yibao lint` (issue 4)."""
