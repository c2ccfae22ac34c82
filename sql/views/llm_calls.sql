-- Every LLM request and cached answer: status ok|cached|rejected|error, tokens, latency (ms)
-- and estimated cost (USD). The replay provider answers from these rows.
CREATE OR REPLACE VIEW llm_calls AS
SELECT
    call_id,
    run_id,
    "timestamp",
    provider,
    model,
    prompt_hash,
    status,
    error,
    input_tokens,
    output_tokens,
    latency_ms,
    cost_usd,
    prompt,
    response
FROM lake.llm_calls;
