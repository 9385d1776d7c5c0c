"""One handler per command, each `async def verb(cmd, uow, ctx)`; grouped by area."""
