-- post_body.lua: POST the same JSON body (read from the file named by the
-- first argument after --) with every request. Used for runs/search under
-- concurrency.

function init(args)
	local f = assert(io.open(args[1], "rb"))
	wrk.body = f:read("*a")
	f:close()
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/json"
end
