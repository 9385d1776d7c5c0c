"""The triage schema's revisions, oldest first; one file each."""
