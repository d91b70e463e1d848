import asyncio, ssl, time, websockets
ctx = ssl.create_default_context(cafile="/tmp/tt/ca.pem")
async def main():
    t0 = time.monotonic()
    async with websockets.connect("wss://127.0.0.1:18490/api/tail?n=1", ssl=ctx) as ws:
        pass
    print("client close took", round(time.monotonic() - t0, 3), ws.close_code)
    t0 = time.monotonic()
    ws = await websockets.connect("wss://127.0.0.1:18490/api/tail?level=bogus", ssl=ctx)
    try:
        while True:
            m = await asyncio.wait_for(ws.recv(), 10); print("msg", m[:100])
    except websockets.ConnectionClosed as e:
        print("server close took", round(time.monotonic() - t0, 3), e.code)
asyncio.run(main())
