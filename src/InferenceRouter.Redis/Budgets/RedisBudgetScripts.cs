namespace InferenceRouter;

/// <summary>
/// The ledger's Lua scripts. Each runs atomically in Redis, so reserve, settle and release are one round trip each and exact under
/// any number of processes. Amounts are integer units (10⁻¹⁰ of the currency) changed with HINCRBY, exact to the unit; comparisons
/// in Lua are exact below 2⁵³ units (900,000 currency units per account). Times are Unix milliseconds.
/// </summary>
/// <remarks>
/// Keys (all under one hash tag, so a script stays on one Redis Cluster slot): <c>{p}:a:…</c> an account (hash: limit, spent, reserved,
/// rolling and slot lengths, and the key's parts), <c>…:s</c> its rolling-window slots (hash: slot index → units), <c>{p}:r:&lt;id&gt;</c>
/// a reservation (hash: units, state o/x/d/r = open/expired/done/released, created, expires, expired-at, settled cost, its accounts), <c>{p}:open</c>
/// open reservations by expiry (sorted set). Every script first charges reservations whose expiry has passed (at most 64 per run), so
/// spend held by a crashed process is charged by whichever process touches the ledger next.
/// </remarks>
internal static class RedisBudgetScripts
{
    private const string Common = """
        local function add_spent(a, units, at)
          redis.call('HINCRBY', a, 'spent', units)
          local slot_ms = tonumber(redis.call('HGET', a, 'sm') or '0')
          if slot_ms > 0 and tonumber(units) ~= 0 then
            redis.call('HINCRBY', a .. ':s', math.floor(at / slot_ms), units)
          end
        end

        local function remove_spent(a, units, at)
          units = tonumber(units)
          local slot_ms = tonumber(redis.call('HGET', a, 'sm') or '0')
          if slot_ms > 0 then
            -- Only what is still in the window can be taken back; spend already forgotten stays forgotten.
            local slot = math.floor(at / slot_ms)
            local held = tonumber(redis.call('HGET', a .. ':s', slot) or '0')
            if held <= 0 then return end
            units = math.min(units, held)
            redis.call('HINCRBY', a .. ':s', slot, -units)
          end
          local spent = tonumber(redis.call('HGET', a, 'spent') or '0')
          redis.call('HINCRBY', a, 'spent', -math.min(units, spent))
        end

        local function current_spent(a, now)
          local rolling_ms = tonumber(redis.call('HGET', a, 'rm') or '0')
          if rolling_ms > 0 then
            local slot_ms = tonumber(redis.call('HGET', a, 'sm'))
            local oldest = math.floor((now - rolling_ms) / slot_ms)
            local slots = redis.call('HGETALL', a .. ':s')
            for i = 1, #slots, 2 do
              if tonumber(slots[i]) < oldest then
                redis.call('HINCRBY', a, 'spent', -tonumber(slots[i + 1]))
                redis.call('HDEL', a .. ':s', slots[i])
              end
            end
          end
          return tonumber(redis.call('HGET', a, 'spent') or '0')
        end

        local function balance(a, now)
          local spent = current_spent(a, now)
          return {redis.call('HGET', a, 'limit') or '0', tostring(redis.call('HGET', a, 'spent') or '0'), redis.call('HGET', a, 'reserved') or '0'}
        end

        local function charge_expired(open, prefix, now)
          local ids = redis.call('ZRANGEBYSCORE', open, '-inf', now, 'LIMIT', 0, 64)
          for _, id in ipairs(ids) do
            local r = prefix .. ':r:' .. id
            if redis.call('HGET', r, 's') == 'o' then
              local units = redis.call('HGET', r, 'u')
              local n = tonumber(redis.call('HGET', r, 'n'))
              local expires = tonumber(redis.call('HGET', r, 'e'))
              for i = 1, n do
                local a = redis.call('HGET', r, 'a' .. i)
                redis.call('HINCRBY', a, 'reserved', -units)
                add_spent(a, units, expires)
              end
              redis.call('HSET', r, 's', 'x', 'x', expires)
            end
            redis.call('ZREM', open, id)
          end
          return #ids
        end

        -- Records each account's limit, rolling and slot lengths and key parts (ARGV from index at + 1, seven per account) and
        -- starts the calendar window's expiry.
        local function describe_accounts(first_key, at, retention)
          for i = first_key, #KEYS do
            local a = KEYS[i]
            redis.call('HSET', a, 'limit', ARGV[at + 1], 'rm', ARGV[at + 2], 'sm', ARGV[at + 3], 'ln', ARGV[at + 5], 'sv', ARGV[at + 6], 'ws', ARGV[at + 7])
            local window_end = tonumber(ARGV[at + 4])
            if window_end > 0 then
              redis.call('PEXPIREAT', a, window_end + retention)
              redis.call('PEXPIREAT', a .. ':s', window_end + retention)
            end
            at = at + 7
          end
        end

        -- Settles (cost in units) or releases (cost '-1') the reservation r: an open one gives back what it held, an expired one
        -- has its expiry charge replaced; anything else was already finished. Returns {0} or {1, late, balances…}.
        local function finish(open, r, id, cost, now, retention)
          local releasing = cost == '-1'
          local state = redis.call('HGET', r, 's')
          if not state and releasing then
            -- Released before it was made (its reserve timed out on the caller's side and may still arrive): leave a tombstone.
            redis.call('HSET', r, 's', 'r')
            redis.call('PEXPIRE', r, retention)
          end
          if state ~= 'o' and state ~= 'x' then
            return {0}
          end
          local units = redis.call('HGET', r, 'u')
          local n = tonumber(redis.call('HGET', r, 'n'))
          local result = {1, state == 'x' and 1 or 0}
          for i = 1, n do
            local a = redis.call('HGET', r, 'a' .. i)
            if state == 'o' then
              redis.call('HINCRBY', a, 'reserved', -units)
            else
              -- Expiry charged what was reserved: the real cost replaces that charge (a release refunds it).
              remove_spent(a, units, tonumber(redis.call('HGET', r, 'x')))
            end
            if not releasing then
              add_spent(a, cost, now)
            end
            local b = balance(a, now)
            table.insert(result, b[1])
            table.insert(result, b[2])
            table.insert(result, b[3])
          end
          if releasing then
            redis.call('HSET', r, 's', 'r')
          else
            redis.call('HSET', r, 's', 'd', 'k', cost)
          end
          redis.call('ZREM', open, id)
          return result
        end

        -- Holds units in every account (KEYS from 3) as the open reservation r, charged at its expiry unless finished before.
        local function hold(open, r, id, units, now, expires, retention, extra)
          local fields = {'u', units, 's', 'o', 'c', now, 'e', expires, 'n', #KEYS - 2}
          for i = 3, #KEYS do
            redis.call('HINCRBY', KEYS[i], 'reserved', units)
            table.insert(fields, 'a' .. (i - 2))
            table.insert(fields, KEYS[i])
          end
          if extra then
            table.insert(fields, extra)
            table.insert(fields, 1)
          end
          redis.call('HSET', r, unpack(fields))
          redis.call('PEXPIREAT', r, expires + retention)
          redis.call('ZADD', open, expires, id)
        end
        """;

    /// <summary>KEYS: open, reservation, accounts…. ARGV: prefix, id, units, now, expires, retention, then per account: limit, rolling ms, slot ms, window end ms (0: none), limit name, scope value, window start ticks.</summary>
    public const string Reserve = Common + """

        local prefix, id, units, now, expires, retention = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
        -- A reservation its caller gave up on (timed out, then released by id) left a tombstone: it must not be made now.
        if redis.call('EXISTS', KEYS[2]) == 1 then
          return {2}
        end
        charge_expired(KEYS[1], prefix, now)
        describe_accounts(3, 6, retention)
        if tonumber(units) > 0 then
          for i = 3, #KEYS do
            local a = KEYS[i]
            local spent = current_spent(a, now)
            local reserved = tonumber(redis.call('HGET', a, 'reserved') or '0')
            if spent + reserved + tonumber(units) > tonumber(redis.call('HGET', a, 'limit')) then
              local b = balance(a, now)
              return {0, i - 2, b[1], b[2], b[3]}
            end
          end
        end
        hold(KEYS[1], KEYS[2], id, units, now, expires, retention)
        return {1}
        """;

    /// <summary>KEYS: open, reservation, accounts…. ARGV: prefix, id, cost (units; "-1" releases), now, retention.</summary>
    public const string Finish = Common + """

        charge_expired(KEYS[1], ARGV[1], tonumber(ARGV[4]))
        return finish(KEYS[1], KEYS[2], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5])
        """;

    /// <summary>
    /// KEYS: open, reservation, accounts…. ARGV: prefix, id, units, expires, outcome ("o" still open, a cost in units, or "-1"
    /// released), now, retention, then per account the same seven values as <see cref="Reserve"/>. Brings a reservation made in the
    /// local ledger while Redis was unreachable (fail open) into Redis, without a limit check (the spend already happened): first as
    /// the open reservation it was (so its expiry is charged here if no outcome ever arrives), then finished with its outcome.
    /// Idempotent: each step applies once, however often the same record is sent.
    /// </summary>
    public const string Adopt = Common + """

        local prefix, id, units, expires, outcome, now, retention = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), ARGV[7]
        charge_expired(KEYS[1], prefix, now)
        if redis.call('EXISTS', KEYS[2]) == 0 then
          describe_accounts(3, 7, retention)
          hold(KEYS[1], KEYS[2], id, units, now, expires, retention, 'offline')
        end
        if outcome == 'o' then
          return 1
        end
        return finish(KEYS[1], KEYS[2], id, outcome, now, retention)[1]
        """;

    /// <summary>KEYS: open. ARGV: prefix, now. Charges every expired reservation (in batches of 64) and returns how many.</summary>
    public const string Sweep = Common + """

        local total, charged = 0, 64
        while charged == 64 do
          charged = charge_expired(KEYS[1], ARGV[1], tonumber(ARGV[2]))
          total = total + charged
        end
        return total
        """;
}
