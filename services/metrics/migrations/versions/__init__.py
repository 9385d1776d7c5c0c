"""The metrics schema's revisions, oldest first; one file each."""
