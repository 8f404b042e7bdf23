-- wrk script: the old Locust request, `POST /launch` (SCUD-C from 36.5N 123.1W at Los Angeles).
--
--   wrk -t2 -c50 -d20s -s deploy/wrk/launch.lua http://127.0.0.1:8080
--
-- wrk sends GET unless told otherwise; this sets the method and the old query string. Only
-- loopback hosts are accepted: any other host stops the run before it starts. Responses other
-- than 2xx (503 with Retry-After past the room's capacity) are counted by wrk as "Non-2xx".

wrk.method = "POST"
wrk.path = "/launch?lat=36.5&lon=-123.1&targetLat=34.05&targetLon=-118.25&missileType=SCUD-C"
wrk.headers["Content-Length"] = "0"

local allowed = { ["127.0.0.1"] = true, ["localhost"] = true, ["::1"] = true, ["[::1]"] = true }

function setup(thread)
  if not allowed[wrk.host] then
    io.stderr:write("refusing to load " .. tostring(wrk.host) .. ": only 127.0.0.1, localhost or ::1\n")
    os.exit(2)
  end
end
