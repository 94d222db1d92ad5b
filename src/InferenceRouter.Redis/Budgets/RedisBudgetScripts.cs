namespace InferenceRouter;

/// <summary>
/// The ledger's Lua scripts. Each runs atomically in Redis, so reserve, settle and release are one round trip each and exact under
/// any number of processes. Times are Unix milliseconds.
/// </summary>
/// <remarks>
/// <para>
/// <b>Amounts are decimal strings, never Lua numbers.</b> Lua 5.1 numbers are doubles: above 2⁵³ they round, and Redis formats a number
/// passed to a command with <c>%.14g</c>, so a large amount became exponent notation that <c>HINCRBY</c> refused. Here amounts travel as
/// the integer strings the caller sent, are added, subtracted and compared digit by digit (seven digits at a time, each chunk an exact
/// small integer), and are written back with <c>HSET</c> as strings: exact at any size up to a <see langword="long"/>.
/// </para>
/// <para>
/// <b>One damaged record never stops the others.</b> Every record a script reads is checked before anything is written (a key of the
/// wrong type, a field that is not an integer, a reservation naming a key outside the ledger): a script that finds one in the call's own
/// accounts or reservation changes nothing and answers status 4 with the reason (the caller's call fails, logged and counted); an expired
/// reservation found damaged while charging expiries is moved from <c>{p}:open</c> to <c>{p}:quarantine</c> (sorted set, by time) instead
/// of charged, reported in the result, and the script goes on. A script never raises an error part-way (Redis does not undo the writes
/// before one).
/// </para>
/// <para>
/// Keys (all under one hash tag, so a script stays on one Redis Cluster slot): <c>{p}:a:…</c> an account (hash: limit, spent, reserved,
/// rolling and slot lengths, and the key's parts), <c>…:s</c> its rolling-window slots (hash: slot index → units), <c>{p}:r:&lt;id&gt;</c>
/// a reservation (hash: units, state o/x/d/r = open/expired/done/released, created, expires, expired-at, settled cost, its accounts),
/// <c>{p}:open</c> open reservations by expiry (sorted set), <c>{p}:limits</c> the limits the apps on this prefix enforce (hash: limit
/// name → units:rolling ms). Every script first charges reservations whose expiry has passed (at most 64 per run), so spend held by a
/// crashed process is charged by whichever process touches the ledger next. Every script answers <c>{notes, status, …}</c>: notes lists
/// the expired reservations set aside as damaged on the way (<c>id: reason</c>).
/// </para>
/// </remarks>
internal static class RedisBudgetScripts
{
    private const string Common = """
        local notes = {}
        local MAX = '9223372036854775807'

        -- A canonical non-negative integer string (at most a long), or nil.
        local function int(s)
          if type(s) ~= 'string' or #s == 0 or #s > 19 or string.find(s, '%D') then return nil end
          local t = string.gsub(s, '^0+', '')
          if t == '' then return '0' end
          if #t == 19 and t > MAX then return nil end
          return t
        end

        local function cmp(a, b)
          if #a ~= #b then return #a < #b and -1 or 1 end
          if a == b then return 0 end
          return a < b and -1 or 1
        end

        local function strip(s)
          local t = string.gsub(s, '^0+', '')
          if t == '' then return '0' end
          return t
        end

        local function add(a, b)
          local out, carry, i, j = '', 0, #a, #b
          while i > 0 or j > 0 or carry > 0 do
            local x = i > 0 and tonumber(string.sub(a, math.max(i - 6, 1), i)) or 0
            local y = j > 0 and tonumber(string.sub(b, math.max(j - 6, 1), j)) or 0
            local s = x + y + carry
            if s >= 10000000 then carry, s = 1, s - 10000000 else carry = 0 end
            out = string.format('%07d', s) .. out
            i, j = i - 7, j - 7
          end
          out = strip(out)
          -- Saturates at a long (the units of one amount are at most a ninth of it, so this takes absurd spend).
          if #out > 19 or (#out == 19 and out > MAX) then return MAX end
          return out
        end

        -- a - b, or '0' when b is larger.
        local function sub(a, b)
          if cmp(a, b) <= 0 then return '0' end
          local out, borrow, i, j = '', 0, #a, #b
          while i > 0 do
            local x = tonumber(string.sub(a, math.max(i - 6, 1), i))
            local y = j > 0 and tonumber(string.sub(b, math.max(j - 6, 1), j)) or 0
            local s = x - y - borrow
            if s < 0 then borrow, s = 1, s + 10000000 else borrow = 0 end
            out = string.format('%07d', s) .. out
            i, j = i - 7, j - 7
          end
          return strip(out)
        end

        local function min(a, b)
          if cmp(a, b) <= 0 then return a end
          return b
        end

        -- A money field, canonical (the records were checked before: a damaged one never gets here).
        local function field(a, name)
          return int(redis.call('HGET', a, name) or '0') or '0'
        end

        -- Why the account a cannot be used, or nil (an account that does not exist yet is fine). Only what holds money is checked:
        -- the limit, lengths and key parts are written again by every reservation.
        local function bad_account(a)
          local t = redis.call('TYPE', a).ok
          if t ~= 'hash' and t ~= 'none' then return 'account ' .. a .. ' is a ' .. t .. ', not a hash' end
          local v = redis.call('HMGET', a, 'spent', 'reserved')
          if v[1] and not int(v[1]) then return 'account ' .. a .. ' field spent is not an integer (' .. string.sub(v[1], 1, 40) .. ')' end
          if v[2] and not int(v[2]) then return 'account ' .. a .. ' field reserved is not an integer (' .. string.sub(v[2], 1, 40) .. ')' end
          local st = redis.call('TYPE', a .. ':s').ok
          if st ~= 'hash' and st ~= 'none' then return 'account slots ' .. a .. ':s is a ' .. st .. ', not a hash' end
          if st == 'hash' then
            local slots = redis.call('HGETALL', a .. ':s')
            for i = 1, #slots, 2 do
              if not int(slots[i]) or #slots[i] > 15 or not int(slots[i + 1]) then
                return 'account slots ' .. a .. ':s hold a slot that is not an integer (' .. string.sub(slots[i], 1, 20) .. ' = ' .. string.sub(slots[i + 1], 1, 40) .. ')'
              end
            end
          end
          return nil
        end

        -- Reads the reservation r: nil when there is none, else {state, units, accounts, expired_at}, or nil and why it cannot be used.
        -- Only an open or expired one is checked through (they are the ones that still change accounts).
        local function read_reservation(r, prefix)
          local t = redis.call('TYPE', r).ok
          if t == 'none' then return nil end
          if t ~= 'hash' then return nil, 'reservation ' .. r .. ' is a ' .. t .. ', not a hash' end
          local f = redis.call('HMGET', r, 's', 'u', 'n', 'e', 'x')
          local rec = {state = f[1]}
          if rec.state ~= 'o' and rec.state ~= 'x' then return rec end
          rec.units = int(f[2])
          local n = int(f[3])
          if not rec.units then return nil, 'reservation ' .. r .. ' field u is not an integer (' .. string.sub(tostring(f[2]), 1, 40) .. ')' end
          if not n or #n > 2 or tonumber(n) < 1 or tonumber(n) > 64 then return nil, 'reservation ' .. r .. ' field n is not an account count (' .. string.sub(tostring(f[3]), 1, 40) .. ')' end
          if not int(f[4]) or #f[4] > 15 then return nil, 'reservation ' .. r .. ' field e is not a time (' .. string.sub(tostring(f[4]), 1, 40) .. ')' end
          rec.expires = tonumber(f[4])
          if rec.state == 'x' then
            if not int(f[5]) or #f[5] > 15 then return nil, 'reservation ' .. r .. ' field x is not a time (' .. string.sub(tostring(f[5]), 1, 40) .. ')' end
            rec.expired_at = tonumber(f[5])
          end
          rec.accounts = {}
          local own = prefix .. ':a:'
          for i = 1, tonumber(n) do
            local a = redis.call('HGET', r, 'a' .. i)
            if not a or string.sub(a, 1, #own) ~= own then return nil, 'reservation ' .. r .. ' names account ' .. tostring(a) .. ' outside the ledger' end
            local why = bad_account(a)
            if why then return nil, why end
            rec.accounts[i] = a
          end
          return rec
        end

        local function slot_of(at, slot_ms)
          return string.format('%d', math.floor(at / tonumber(slot_ms)))
        end

        local function add_spent(a, units, at)
          if units == '0' then return end
          redis.call('HSET', a, 'spent', add(field(a, 'spent'), units))
          local slot_ms = field(a, 'sm')
          if slot_ms ~= '0' then
            local slot = slot_of(at, slot_ms)
            redis.call('HSET', a .. ':s', slot, add(field(a .. ':s', slot), units))
          end
        end

        local function remove_spent(a, units, at)
          local slot_ms = field(a, 'sm')
          if slot_ms ~= '0' then
            -- Only what is still in the window can be taken back; spend already forgotten stays forgotten.
            local slot = slot_of(at, slot_ms)
            local held = field(a .. ':s', slot)
            if held == '0' then return end
            units = min(units, held)
            redis.call('HSET', a .. ':s', slot, sub(held, units))
          end
          redis.call('HSET', a, 'spent', sub(field(a, 'spent'), units))
        end

        local function current_spent(a, now)
          local rolling_ms, slot_ms = tonumber(field(a, 'rm')), tonumber(field(a, 'sm'))
          if rolling_ms > 0 and slot_ms > 0 then
            local oldest = math.floor((now - rolling_ms) / slot_ms)
            local slots = redis.call('HGETALL', a .. ':s')
            local spent = field(a, 'spent')
            for i = 1, #slots, 2 do
              if tonumber(slots[i]) < oldest then
                spent = sub(spent, int(slots[i + 1]) or '0')
                redis.call('HDEL', a .. ':s', slots[i])
              end
            end
            redis.call('HSET', a, 'spent', spent)
            return spent
          end
          return field(a, 'spent')
        end

        local function balance(a)
          return {field(a, 'limit'), field(a, 'spent'), field(a, 'reserved')}
        end

        local function charge_expired(open, prefix, now)
          local ids = redis.call('ZRANGEBYSCORE', open, '-inf', now, 'LIMIT', 0, 64)
          for _, id in ipairs(ids) do
            local r = prefix .. ':r:' .. id
            local rec, why = read_reservation(r, prefix)
            if why then
              -- Damaged: set aside (never retried, never blocking the expiries behind it) and reported, not charged.
              redis.call('ZADD', prefix .. ':quarantine', now, id)
              table.insert(notes, id .. ': ' .. why)
            elseif rec and rec.state == 'o' then
              for _, a in ipairs(rec.accounts) do
                redis.call('HSET', a, 'reserved', sub(field(a, 'reserved'), rec.units))
                add_spent(a, rec.units, rec.expires)
              end
              redis.call('HSET', r, 's', 'x', 'x', rec.expires)
            end
            redis.call('ZREM', open, id)
          end
          return #ids
        end

        -- Why one of the call's accounts (KEYS from first_key) cannot be used: {4, its index, why}, or nil.
        local function bad_accounts(first_key)
          for i = first_key, #KEYS do
            local why = bad_account(KEYS[i])
            if why then return {4, i - first_key + 1, why} end
          end
          return nil
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
        -- has its expiry charge replaced; anything else was already finished. Returns {0}, {1, late, balances…} or {4, 0, why}.
        local function finish(open, r, id, cost, now, retention, prefix)
          local releasing = cost == '-1'
          local rec, why = read_reservation(r, prefix)
          if why then return {4, 0, why} end
          if not rec and releasing then
            -- Released before it was made (its reserve timed out on the caller's side and may still arrive): leave a tombstone.
            redis.call('HSET', r, 's', 'r')
            redis.call('PEXPIRE', r, retention)
          end
          if not rec or (rec.state ~= 'o' and rec.state ~= 'x') then
            return {0}
          end
          local result = {1, rec.state == 'x' and 1 or 0}
          for _, a in ipairs(rec.accounts) do
            if rec.state == 'o' then
              redis.call('HSET', a, 'reserved', sub(field(a, 'reserved'), rec.units))
            else
              -- Expiry charged what was reserved: the real cost replaces that charge (a release refunds it).
              remove_spent(a, rec.units, rec.expired_at)
            end
            if not releasing then
              add_spent(a, cost, now)
            end
            local b = balance(a)
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
            redis.call('HSET', KEYS[i], 'reserved', add(field(KEYS[i], 'reserved'), units))
            table.insert(fields, 'a' .. (i - 2))
            table.insert(fields, KEYS[i])
          end
          if extra then
            table.insert(fields, extra)
            table.insert(fields, 1)
          end
          redis.call('HSET', r, unpack(fields))
          -- Kept for retention after its expiry, or for retention from now when that is already past (a journal replayed late): a
          -- past time would delete the record at once, leaving its units held in the accounts with nothing to settle or charge them.
          -- Relative to the caller's clock, so Redis's own clock never decides it.
          local keep = tonumber(expires) + tonumber(retention) - tonumber(now)
          if keep < tonumber(retention) then keep = tonumber(retention) end
          redis.call('PEXPIRE', r, math.floor(keep))
          redis.call('ZADD', open, expires, id)
        end

        local function answer(result)
          table.insert(result, 1, notes)
          return result
        end
        """;

    /// <summary>
    /// KEYS: open, reservation, accounts…. ARGV: prefix, id, units, now, expires, retention, then per account: limit, rolling ms, slot ms,
    /// window end ms (0: none), limit name, scope value, window start ticks. Answers {notes, 1} granted, {notes, 0, index, limit, spent,
    /// reserved} denied, {notes, 2} released before it arrived, {notes, 4, index, why} an account is damaged.
    /// </summary>
    public const string Reserve = Common + """

        local prefix, id, units, now, expires, retention = ARGV[1], ARGV[2], int(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
        -- A reservation its caller gave up on (timed out, then released by id) left a tombstone: it must not be made now.
        if redis.call('EXISTS', KEYS[2]) == 1 then
          return answer({2})
        end
        charge_expired(KEYS[1], prefix, now)
        local bad = bad_accounts(3)
        if bad then return answer(bad) end
        describe_accounts(3, 6, retention)
        if units ~= '0' then
          for i = 3, #KEYS do
            local a = KEYS[i]
            local spent = current_spent(a, now)
            if cmp(add(add(spent, field(a, 'reserved')), units), field(a, 'limit')) > 0 then
              local b = balance(a)
              return answer({0, i - 2, b[1], b[2], b[3]})
            end
          end
        end
        hold(KEYS[1], KEYS[2], id, units, now, expires, retention)
        return answer({1})
        """;

    /// <summary>KEYS: open, reservation, accounts…. ARGV: prefix, id, cost (units; "-1" releases), now, retention. Answers {notes, …} and <c>finish</c>'s result.</summary>
    public const string Finish = Common + """

        charge_expired(KEYS[1], ARGV[1], tonumber(ARGV[4]))
        local cost = ARGV[3]
        if cost ~= '-1' then cost = int(cost) end
        return answer(finish(KEYS[1], KEYS[2], ARGV[2], cost, tonumber(ARGV[4]), ARGV[5], ARGV[1]))
        """;

    /// <summary>
    /// KEYS: open, reservation, accounts…. ARGV: prefix, id, units, expires, outcome ("o" still open, a cost in units, or "-1"
    /// released), now, retention, then per account the same seven values as <see cref="Reserve"/>. Brings a reservation made in the
    /// local ledger while Redis was unreachable (fail open) into Redis, without a limit check (the spend already happened): first as
    /// the open reservation it was (so its expiry is charged here if no outcome ever arrives), then finished with its outcome.
    /// Idempotent: each step applies once, however often the same record is sent. Answers {notes, 1} or {notes, 4, index, why}.
    /// </summary>
    public const string Adopt = Common + """

        local prefix, id, units, expires, outcome, now, retention = ARGV[1], ARGV[2], int(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), ARGV[7]
        charge_expired(KEYS[1], prefix, now)
        if redis.call('EXISTS', KEYS[2]) == 0 then
          local bad = bad_accounts(3)
          if bad then return answer(bad) end
          describe_accounts(3, 7, retention)
          hold(KEYS[1], KEYS[2], id, units, now, expires, retention, 'offline')
        end
        if outcome == 'o' then
          return answer({1})
        end
        if outcome ~= '-1' then outcome = int(outcome) end
        local result = finish(KEYS[1], KEYS[2], id, outcome, now, retention, prefix)
        if result[1] == 4 then return answer(result) end
        return answer({1})
        """;

    /// <summary>KEYS: open. ARGV: prefix, now. Charges every expired reservation (in batches of 64); answers {notes, how many}.</summary>
    public const string Sweep = Common + """

        local total, charged = 0, 64
        while charged == 64 do
          charged = charge_expired(KEYS[1], ARGV[1], tonumber(ARGV[2]))
          total = total + charged
        end
        return answer({total})
        """;

    /// <summary>
    /// KEYS: limits. ARGV: overwrite ("1" or "0"), then per limit: name, "units:rolling ms". Records the limits the apps on this prefix
    /// enforce: a limit not stored yet is stored; one stored with another value is overwritten when asked, else reported. Answers {0}
    /// or {1, name, stored value}.
    /// </summary>
    public const string VerifyLimits = """

        local overwrite = ARGV[1] == '1'
        if redis.call('TYPE', KEYS[1]).ok ~= 'hash' and redis.call('TYPE', KEYS[1]).ok ~= 'none' then
          return {1, '', 'not a hash'}
        end
        for i = 2, #ARGV, 2 do
          local stored = redis.call('HGET', KEYS[1], ARGV[i])
          if stored and stored ~= ARGV[i + 1] and not overwrite then
            return {1, ARGV[i], stored}
          end
        end
        for i = 2, #ARGV, 2 do
          redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
        end
        return {0}
        """;
}
