-- wrk script: POST one claim per request (the body is read from the WRK_BODY env var)
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-contributor-token"
