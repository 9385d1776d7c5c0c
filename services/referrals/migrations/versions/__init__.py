"""The referrals schema's revisions, oldest first; one file each."""
