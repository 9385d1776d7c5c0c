"""The booking schema's revisions, oldest first; one file each."""
