-- wrk script: POST a variant evaluation of a flag from the generated set.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"namespaceKey":"default","flagKey":"flag-501","entityId":"user-1234","context":{"tier":"t1","age":"30"}}'
