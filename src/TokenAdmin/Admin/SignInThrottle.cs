using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace TokenAdmin.Admin;

/// <summary>
/// Growing delays after failed sign-ins, per account name and per client address (Hosting/ClientAddress), instead of a
/// hard lock that anyone who knows an admin's name could keep closed. After <see cref="AdminOptions.MaxFailedSignIns"/>
/// failures in a row, each further failure makes the next try wait twice as long (from
/// <see cref="AdminOptions.FirstDelay"/> up to <see cref="AdminOptions.LockoutDuration"/>); a try during the wait fails
/// like a wrong password and counts as one. An address an admin signed in from before is not slowed by the account's
/// failures (only by its own), so the real admin keeps signing in while someone else guesses.
/// <para>
/// Names that do not exist are counted exactly like names that do, so the answers tell nothing about which exist.
/// The state is in memory: per node, and gone after a restart (the delays are short, and an attacker cannot restart).
/// </para>
/// </summary>
public sealed class SignInThrottle(IOptions<AdminOptions> options, TimeProvider time)
{
    /// <summary>Entries kept before old ones are swept (failures long past, and remembered addresses).</summary>
    public const int Capacity = 50_000;

    /// <summary>How many addresses an admin is remembered to have signed in from.</summary>
    public const int KnownAddressesPerAccount = 20;

    private sealed class Failures
    {
        public int Count;
        public DateTimeOffset NotBefore;
        public DateTimeOffset Last;
    }

    private readonly ConcurrentDictionary<string, Failures> _accounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Failures> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, DateTimeOffset>> _known = new(StringComparer.Ordinal);

    /// <summary>True while a try for <paramref name="account"/> from <paramref name="client"/> must wait: it fails whatever the password.</summary>
    public bool MustWait(string account, string client)
    {
        var now = time.GetUtcNow();
        return Waiting(_clients, client, now) || (!IsKnown(account, client) && Waiting(_accounts, account, now));
    }

    /// <summary>Counts a failed try against the account and the client address.</summary>
    public void Failed(string account, string client)
    {
        var now = time.GetUtcNow();
        Count(_accounts, account, now);
        Count(_clients, client, now);
    }

    /// <summary>Clears the account's and the address's failures and remembers the address for the account.</summary>
    public void Succeeded(string account, string client)
    {
        var now = time.GetUtcNow();
        _accounts.TryRemove(account, out _);
        _clients.TryRemove(client, out _);
        var known = _known.GetOrAdd(account, _ => new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal));
        known[client] = now;
        if (known.Count > KnownAddressesPerAccount)
        {
            foreach (var oldest in known.OrderBy(k => k.Value).Take(known.Count - KnownAddressesPerAccount))
            {
                known.TryRemove(oldest.Key, out _);
            }
        }
    }

    /// <summary>How many failures in a row the account has (for the audit log: the first delay is audited).</summary>
    public int FailuresOf(string account) => _accounts.TryGetValue(account, out var f) ? Volatile.Read(ref f.Count) : 0;

    /// <summary>The wait after <paramref name="failures"/> failures in a row.</summary>
    public TimeSpan Delay(int failures)
    {
        var o = options.Value;
        var beyond = failures - o.MaxFailedSignIns;
        if (beyond < 0)
        {
            return TimeSpan.Zero;
        }

        var delay = o.FirstDelay * Math.Pow(2, Math.Min(beyond, 30));
        return delay < o.LockoutDuration ? delay : o.LockoutDuration;
    }

    private bool IsKnown(string account, string client) => _known.TryGetValue(account, out var known) && known.ContainsKey(client);

    private static bool Waiting(ConcurrentDictionary<string, Failures> map, string key, DateTimeOffset now)
    {
        if (!map.TryGetValue(key, out var failures))
        {
            return false;
        }

        lock (failures)
        {
            return failures.NotBefore > now;
        }
    }

    private void Count(ConcurrentDictionary<string, Failures> map, string key, DateTimeOffset now)
    {
        if (map.Count >= Capacity)
        {
            Sweep(map, now);
        }

        var failures = map.GetOrAdd(key, _ => new Failures());
        lock (failures)
        {
            failures.Count++;
            failures.Last = now;
            failures.NotBefore = now + Delay(failures.Count);
        }
    }

    private void Sweep(ConcurrentDictionary<string, Failures> map, DateTimeOffset now)
    {
        // Note: failures older than the longest delay no longer slow anything down.
        var forgotten = now - options.Value.LockoutDuration;
        foreach (var (key, failures) in map)
        {
            if (failures.Last < forgotten && failures.NotBefore < now)
            {
                map.TryRemove(key, out _);
            }
        }

        if (map.Count >= Capacity)
        {
            map.Clear();
        }
    }
}
