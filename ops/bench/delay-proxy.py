"""A TCP proxy that holds every chunk for DELAY_MS in each direction: a WAN's round trip
(2 x DELAY_MS) on loopback, where tc netem is not available. For benchmarks of how fast batch
opens its connections (ops/bench/wan-ramp.sh); it adds its own CPU cost, so compare runs
through it with each other, not with runs without it.

Usage: delay-proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_MS   (prints "ready" once listening)
"""
import asyncio, sys, time
LISTEN=int(sys.argv[1]); UP=int(sys.argv[2]); DELAY=float(sys.argv[3])/1000
async def pipe(reader, writer):
    q=asyncio.Queue()
    async def rd():
        while True:
            data=await reader.read(65536)
            await q.put((time.monotonic()+DELAY, data))
            if not data: return
    async def wr():
        while True:
            t,data=await q.get()
            d=t-time.monotonic()
            if d>0: await asyncio.sleep(d)
            if not data:
                try: writer.write_eof()
                except Exception: pass
                return
            writer.write(data); await writer.drain()
    await asyncio.gather(rd(), wr(), return_exceptions=True)
    writer.close()
async def handle(cr, cw):
    try:
        ur, uw = await asyncio.open_connection('127.0.0.1', UP)
    except Exception:
        cw.close(); return
    await asyncio.gather(pipe(cr, uw), pipe(ur, cw), return_exceptions=True)
async def main():
    srv=await asyncio.start_server(handle,'127.0.0.1',LISTEN, backlog=4096)
    print("ready", flush=True)
    async with srv: await srv.serve_forever()
asyncio.run(main())
