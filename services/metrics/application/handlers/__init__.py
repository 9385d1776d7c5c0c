"""One handler per command: `async def verb(cmd, uow, ctx) -> result`."""
