using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// In-memory RSA signing keys with runtime rotation.
/// </summary>
/// <remarks>
/// How OpenIddict 7.8 consumes the keys (checked in its source):
/// <list type="bullet">
/// <item>tokens are signed with <c>Options.SigningCredentials.First()</c>, read for every token (AttachSecurityCredentials);</item>
/// <item>the JWKS endpoint enumerates <c>Options.SigningCredentials</c> on every request (AttachSigningKeys);</item>
/// <item>the server validates its own tokens (codes, refresh tokens, introspected tokens) with
/// <c>Options.TokenValidationParameters.IssuerSigningKeys</c>, set once at start-up to a lazy projection of the list.</item>
/// </list>
/// So rotation inserts the new credentials at index 0 of the live list (signing + JWKS), and the validation keys are
/// replaced by a view over every key this ring ever created, so that codes and refresh tokens signed with a key
/// dropped from the JWKS stay redeemable at this provider.
/// </remarks>
internal sealed class SigningKeyRing : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<RSA> _rsaKeys = [];
    private volatile SecurityKey[] _allKeys = [];
    private OpenIddictServerOptions? _options;

    public SigningKeyRing() => Current = CreateCredentials();

    public SigningCredentials Current { get; private set; }

    public string CurrentKeyId => Current.Key.KeyId;

    public IReadOnlyList<string> PublishedKeyIds
    {
        get
        {
            lock (_gate)
            {
                return _options is null ? [CurrentKeyId] : [.. _options.SigningCredentials.Select(c => c.Key.KeyId)];
            }
        }
    }

    /// <summary>Hooks the ring to the live OpenIddict options (call once, before requests are served).</summary>
    public void Attach(OpenIddictServerOptions options)
    {
        lock (_gate)
        {
            _options = options;
            options.TokenValidationParameters.IssuerSigningKeys = EnumerateValidationKeys();
        }
    }

    public string Rotate(bool keepOldKeyInJwks)
    {
        lock (_gate)
        {
            var options = _options ?? throw new InvalidOperationException("The signing key ring is not attached.");
            var credentials = CreateCredentials();
            if (!keepOldKeyInJwks)
            {
                options.SigningCredentials.Clear();
            }

            options.SigningCredentials.Insert(0, credentials);
            Current = credentials;
            return credentials.Key.KeyId;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var rsa in _rsaKeys)
            {
                rsa.Dispose();
            }

            _rsaKeys.Clear();
        }
    }

    private IEnumerable<SecurityKey> EnumerateValidationKeys()
    {
        // Re-reads the array on every enumeration (TokenValidationParameters is cloned per validation).
        foreach (var key in _allKeys)
        {
            yield return key;
        }
    }

    private SigningCredentials CreateCredentials()
    {
        var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa)
        {
            KeyId = "tidp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
        };

        lock (_gate)
        {
            _rsaKeys.Add(rsa);
            _allKeys = [key, .. _allKeys];
        }

        return new SigningCredentials(key, SecurityAlgorithms.RsaSha256);
    }
}
