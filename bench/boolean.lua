-- wrk script: POST a boolean evaluation of a flag from the generated set.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"namespaceKey":"default","flagKey":"flag-500","entityId":"user-1234","context":{"tier":"t7","age":"30"}}'
