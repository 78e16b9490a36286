-- log_batch.lua: W3, one POST runs/log-batch of KEYS x STEPS metrics per request.
-- Arguments (after --): RUNIDS_FILE STEP_OFFSET NTHREADS KEYS STEPS
-- Every request carries STEPS new steps for each of KEYS keys on one run
-- (runs rotate as in log_metric.lua), so every point is new.

local thread_counter = 0
function setup(thread)
	thread:set("tid", thread_counter)
	thread_counter = thread_counter + 1
end

local runs = {}
local i = 0
local base = 0
local ts0 = 1700000000000
local nkeys, nsteps = 100, 10
local prefix = {}

function init(args)
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
	nkeys = tonumber(args[4] or "100")
	nsteps = tonumber(args[5] or "10")
	base = tonumber(args[2]) + me * 1000000000
	for k = 0, nkeys - 1 do
		prefix[k] = string.format('{"key": "metric_%03d", "value": ', k)
	end
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/json"
end

function request()
	i = i + 1
	local run = runs[(i % #runs) + 1]
	local parts = {}
	local n = 0
	local s0 = base + i * nsteps
	for j = 0, nsteps - 1 do
		local step = s0 + j
		local tail = string.format(', "timestamp": %d, "step": %d}', ts0 + step, step)
		for k = 0, nkeys - 1 do
			n = n + 1
			parts[n] = prefix[k] .. ((k * 7919 + step) % 10007) / 10007 .. tail
		end
	end
	local body = '{"run_id": "' .. run .. '", "metrics": [' .. table.concat(parts, ", ") .. ']}'
	return wrk.format(nil, nil, nil, body)
end
