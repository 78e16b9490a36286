-- log_metric.lua: W1, one POST runs/log-metric per request.
-- Arguments (after --): RUNIDS_FILE STEP_OFFSET
--   RUNIDS_FILE  one run id per line; each wrk thread takes its own share
--   STEP_OFFSET  first step number, distinct for every wrk invocation on a db
-- Requests rotate over the thread's runs (one run per connection when the
-- file holds as many runs as there are connections); step and timestamp
-- increase with every request, so every request inserts a new point.

local thread_counter = 0
function setup(thread)
	thread:set("tid", thread_counter)
	thread_counter = thread_counter + 1
end

local runs = {}
local i = 0
local base = 0
local ts0 = 1700000000000

function init(args)
	local n = 0
	local all = {}
	for line in io.lines(args[1]) do
		if #line > 0 then all[#all + 1] = line end
	end
	local nthreads = tonumber(args[3] or "1")
	local me = tid or 0
	for k = 1, #all do
		if (k - 1) % nthreads == me then runs[#runs + 1] = all[k] end
	end
	if #runs == 0 then runs = all end
	-- threads take disjoint step ranges
	base = tonumber(args[2]) + me * 100000000
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/json"
end

function request()
	i = i + 1
	local run = runs[(i % #runs) + 1]
	local step = base + i
	local body = string.format(
		'{"run_id": "%s", "key": "w1_metric", "value": %d.25, "timestamp": %d, "step": %d}',
		run, i % 1000, ts0 + step, step)
	return wrk.format(nil, nil, nil, body)
end
