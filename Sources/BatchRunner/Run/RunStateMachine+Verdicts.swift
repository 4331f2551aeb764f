import Ledger

extension RunStateMachine {
    /// One answer judged into `verdict`: buffers its row's transition in `unwritten` and applies
    /// what it means for the run (usage, windows, breaker, stops). Returns the attempt as the
    /// observer hears of it. Call ``judgingEnded(nowMs:)`` after each group of answers. `random`
    /// draws the backoff's jitter.
    mutating func judged(
        _ verdict: RowVerdict, row: ClaimedRow, startedAtMs: Int64, endedAtMs: Int64, estimatedTokens: Double, nowMs now: Int64,
        using random: inout some RandomNumberGenerator
    ) -> EndedAttempt {
        let abandoned = phase.isAbandoned
        if let reservation = reservedFor.removeValue(forKey: row.index) {
            reservations?.settle(reservation, actual: abandoned && !verdict.isDone ? nil : verdict.attempt.cost)
        }
        if abandoned, !verdict.isDone {
            // Aborted by the hard stop: not an attempt that counts (a result still is kept).
            counts.pending += 1
            released += 1
            record(.release(row, startedAtMs: startedAtMs), nowMs: now)
            rowCameBack()
            return .abandoned(latencyMs: nil)  // cut off: no latency of the provider's
        }
        let attempt = verdict.attempt
        usage.add(attempt)
        settleTokens(attempt, estimate: estimatedTokens, now: now)
        let latencyMs = endedAtMs - startedAtMs
        switch verdict {
        case let .done(result, attempt):
            record(.complete(row.index, result, attempt), nowMs: now)
            counts.done += 1
            window.succeeded()
            adaptive?.succeeded(latencyMs: latencyMs, nowMs: now, inFlight: inFlight + 1)
            _ = breaker.record(failureKind: nil)
            return EndedAttempt(.done, attempt, latencyMs: latencyMs)
        case let .retry(attempt, waitMs, rateLimit):
            var delay = waitMs ?? backoff.delayMs(afterFailedAttempts: attempt.attempt, using: &random)
            congestion(attempt, rateLimited: rateLimit, now: now)
            var pausedRun = false
            if rateLimit {
                delay = max(delay, 1_000)
                let wasPaused = window.isPaused(nowMs: now)
                pausedRun = window.rateLimited(nowMs: now, waitMs: delay) && !wasPaused
            } else {
                window.answered()
                trip(attempt)
            }
            record(.retry(row.index, atMs: now + delay, attempt), nowMs: now)
            counts.pending += 1
            // Judged after this pass's claim: the ledger has not seen the row come back yet.
            rowCameBack()
            return EndedAttempt(.retry, attempt, latencyMs: latencyMs, pausedRun: pausedRun)
        case let .fail(attempt):
            congestion(attempt, rateLimited: false, now: now)
            record(.fail(row.index, attempt), nowMs: now)
            counts.failed += 1
            window.answered()
            trip(attempt)
            return EndedAttempt(.failed, attempt, latencyMs: latencyMs)
        case let .abort(attempt, message):
            record(.release(row, startedAtMs: attempt.startedAtMs), nowMs: now)
            counts.pending += 1
            released += 1
            rowCameBack()
            phase.stop(.aborted(message: message))
            phase.stopHard()
            // Recorded as abandoned, as the ledger records it: without usage.
            return .abandoned(latencyMs: latencyMs)
        }
    }

    /// After a group of judged answers: a change of the window (size or reason) goes with the
    /// next ledger write.
    mutating func judgingEnded(nowMs now: Int64) {
        let size = effectiveWindow, reason = windowReason
        if let logged = loggedWindow, logged.size == size, logged.reason == reason { return }
        loggedWindow = (size, reason)
        record(.window(size: size, reason: reason, atMs: now), nowMs: now)
    }

    /// A row is pending again: a run that had no work left has some.
    private mutating func rowCameBack() {
        if phase == .drained { phase = .running }
    }

    /// Feeds the adaptive window a failed attempt: 429s, timeouts and overload answers cut it.
    private mutating func congestion(_ attempt: AttemptRecord, rateLimited: Bool, now: Int64) {
        guard adaptive != nil else { return }
        if rateLimited {
            adaptive?.congested(.rateLimited, nowMs: now)
        } else if attempt.errorKind == "timeout" {
            adaptive?.congested(.timeout, nowMs: now)
        } else if attempt.httpStatus == 503 {
            adaptive?.congested(.overload, nowMs: now)
        }
    }

    private mutating func trip(_ attempt: AttemptRecord) {
        let kind = attempt.errorKind ?? "unknown"
        lastBreakerFailure = attempt
        guard breaker.record(failureKind: kind) else { return }
        phase.stop(.circuitOpen(kind: kind, count: breaker.failures, lastError: attempt.error ?? kind))
    }

    private mutating func settleTokens(_ attempt: AttemptRecord, estimate: Double, now: Int64) {
        guard let prompt = attempt.promptTokens else { return }
        let actual = Double(prompt + (attempt.completionTokens ?? 0))
        tokenBucket?.adjust(by: actual - estimate, nowMs: now)
        averageTokens = averageTokens * 0.9 + actual * 0.1
    }
}
