namespace TokenAdmin.Tokens;

/// <summary>
/// Tells in-process caches (the expiry banners) that token configs or states changed, so they are rebuilt on the
/// next read instead of being queried on every page.
/// </summary>
public sealed class TokenStateEvents
{
    private long _version;

    public long Version => Interlocked.Read(ref _version);

    /// <summary>Raised with the id of the token config whose settings or tokens changed in this process.</summary>
    public event Action<int>? ConfigChanged;

    public void Changed() => Interlocked.Increment(ref _version);

    public void Changed(int tokenConfigId)
    {
        Changed();
        ConfigChanged?.Invoke(tokenConfigId);
    }

    /// <summary>Raised with the id of the functional account whose settings or tokens changed in this process.</summary>
    public event Action<int>? AccountChanged;

    public void AccountTokensChanged(int functionalAccountId)
    {
        Changed();
        AccountChanged?.Invoke(functionalAccountId);
    }
}
