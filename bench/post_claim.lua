-- wrk script: POST one claim per request. The JSON body comes from the WRK_BODY environment
-- variable, the bearer token from WRK_TOKEN (a contributor's, from `starosta token create`).
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
