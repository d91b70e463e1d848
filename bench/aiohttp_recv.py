"""The usual Python answer to "receive log= posts": an aiohttp app that
appends each record to a file. Used by http_ingest.sh as a peer."""
import sys

from aiohttp import web

out = open(sys.argv[2], "a", buffering=1 << 16)


async def log(request):
    form = await request.post()
    out.write(form.get("log", "") + "\n")
    return web.Response(status=204)


app = web.Application(client_max_size=16 << 20)
app.router.add_post("/api/log", log)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
