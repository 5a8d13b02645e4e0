using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;
using TokenAdmin.Settings;

namespace TokenAdmin.WebServices;

/// <summary>How a web service proves who calls it.</summary>
public enum WebServiceAuthentication
{
    None = 0,
    Basic = 1,
    /// <summary>A bearer token of an OAuth2 token config.</summary>
    TokenConfig = 2,
    /// <summary>A bearer token of a functional account.</summary>
    FunctionalAccount = 3,
}

/// <summary>Which token of the source goes into the Authorization header.</summary>
public static class WebServiceTokenTypes
{
    public const string AccessToken = "access_token";
    public const string IdToken = "id_token";

    public static readonly IReadOnlyList<string> All = [AccessToken, IdToken];
}

/// <summary>
/// A remote system TokenAdmin calls (OTOBO's "web service" with "Otobo as Requester"): where it is, how TokenAdmin
/// authenticates, and which extra headers every call carries. Its <see cref="Invoker"/>s are the operations.
/// </summary>
public sealed class WebService
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public string NormalizedName { get; set; } = "";
    /// <summary>Absolute http(s) URL the invokers' paths are appended to, e.g. https://crm.example.com/api.</summary>
    public string BaseUrl { get; set; } = "";
    public WebServiceAuthentication Authentication { get; set; }
    public string? BasicUserName { get; set; }
    public string? BasicPasswordProtected { get; set; }
    public TokenSourceKind? TokenSourceKind { get; set; }
    public int? TokenSourceId { get; set; }
    public string TokenType { get; set; } = WebServiceTokenTypes.AccessToken;
    /// <summary>
    /// The admin's explicit, audited consent to send the credential over plain http to another machine; without it
    /// such a web service is refused on save and its calls are not made (see <see cref="SendsCredentialsUnencrypted"/>).
    /// </summary>
    public bool AllowUnencrypted { get; set; }
    public bool Enabled { get; set; } = true;
    public string Comment { get; set; } = "";
    public List<WebServiceHeader> Headers { get; set; } = [];
    public List<Invoker> Invokers { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public string Version { get; set; } = Guid.NewGuid().ToString("N");

    /// <summary>Calls that failed in a row (no answer, timeout, no token, HTTP 5xx or 401); 0 after a call that worked.</summary>
    public int ConsecutiveCallFailures { get; set; }
    /// <summary>When the current run of failed calls began; null while calls work.</summary>
    public DateTime? CallFailingSince { get; set; }
    /// <summary>The last failed call: when, and why (no secret: the invoker's own message, already without credentials).</summary>
    public DateTime? LastCallFailedAt { get; set; }
    public string? LastCallError { get; set; }
    /// <summary>The condition last alerted (<c>failing</c>), null when ok; each change raises one alert (see <see cref="CallHealth"/>).</summary>
    public string? AlertCondition { get; set; }

    public TokenSource? TokenSource =>
        Authentication is WebServiceAuthentication.TokenConfig or WebServiceAuthentication.FunctionalAccount
        && TokenSourceKind is { } kind && TokenSourceId is { } id ? new TokenSource(kind, id) : null;

    public static string Normalize(string name) => name.Trim().ToUpperInvariant();

    /// <summary>True when a password or token would go over plain http to a host other than this machine.</summary>
    public static bool SendsCredentialsUnencrypted(string baseUrl, WebServiceAuthentication authentication) =>
        authentication != WebServiceAuthentication.None
        && Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && !Loopback.IsLoopbackHost(uri.Host);

    public bool SendsCredentialsUnencrypted() => SendsCredentialsUnencrypted(BaseUrl, Authentication);
}

/// <summary>An extra header sent with every call. A secret header's value is stored encrypted and shown masked.</summary>
public sealed class WebServiceHeader
{
    public int Id { get; set; }
    public int WebServiceId { get; set; }
    public string Name { get; set; } = "";
    /// <summary>The plain value, or for a secret header the value encrypted with ISecretProtector.</summary>
    public string Value { get; set; } = "";
    public bool Secret { get; set; }
}

/// <summary>One operation of a web service: an HTTP method and a path with {placeholders}.</summary>
public sealed class Invoker
{
    public const int DefaultTimeoutSeconds = 30;
    public const int MinTimeoutSeconds = 1;
    public const int MaxTimeoutSeconds = 300;

    public int Id { get; set; }
    public int WebServiceId { get; set; }
    public WebService? WebService { get; set; }
    public string Name { get; set; } = "";
    public string NormalizedName { get; set; } = "";
    public string Method { get; set; } = "POST";
    /// <summary>Relative to the web service's base URL, e.g. /tickets/{ticketId}; placeholders are filled and URL-escaped.</summary>
    public string Path { get; set; } = "";
    public int TimeoutSeconds { get; set; } = DefaultTimeoutSeconds;
    public string Comment { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public string Version { get; set; } = Guid.NewGuid().ToString("N");
}

internal sealed class WebServiceConfiguration : IEntityTypeConfiguration<WebService>
{
    public void Configure(EntityTypeBuilder<WebService> builder)
    {
        builder.HasIndex(w => w.NormalizedName).IsUnique();
        builder.Property(w => w.Name).HasMaxLength(100);
        builder.Property(w => w.NormalizedName).HasMaxLength(100);
        builder.Property(w => w.BaseUrl).HasMaxLength(2000);
        builder.Property(w => w.BasicUserName).HasMaxLength(200);
        builder.Property(w => w.TokenType).HasMaxLength(20);
        builder.Property(w => w.Comment).HasMaxLength(250);
        builder.Property(w => w.CreatedBy).HasMaxLength(200);
        builder.Property(w => w.ChangedBy).HasMaxLength(200);
        builder.Property(w => w.Version).HasMaxLength(32).IsConcurrencyToken();
        builder.Property(w => w.LastCallError).HasMaxLength(2000);
        builder.Property(w => w.AlertCondition).HasMaxLength(20);
        builder.HasIndex(w => new { w.TokenSourceKind, w.TokenSourceId });
        builder.Ignore(w => w.TokenSource);
        builder.HasMany(w => w.Headers).WithOne().HasForeignKey(h => h.WebServiceId).OnDelete(DeleteBehavior.Cascade);
        // Note: Restrict, not Cascade: a web service is deleted only once its invokers are gone (the service checks first).
        builder.HasMany(w => w.Invokers).WithOne(i => i.WebService).HasForeignKey(i => i.WebServiceId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class WebServiceHeaderConfiguration : IEntityTypeConfiguration<WebServiceHeader>
{
    public void Configure(EntityTypeBuilder<WebServiceHeader> builder)
    {
        builder.Property(h => h.Name).HasMaxLength(100);
        builder.Property(h => h.Value).HasMaxLength(4000);
    }
}

internal sealed class InvokerConfiguration : IEntityTypeConfiguration<Invoker>
{
    public void Configure(EntityTypeBuilder<Invoker> builder)
    {
        builder.HasIndex(i => new { i.WebServiceId, i.NormalizedName }).IsUnique();
        builder.Property(i => i.Name).HasMaxLength(100);
        builder.Property(i => i.NormalizedName).HasMaxLength(100);
        builder.Property(i => i.Method).HasMaxLength(10);
        builder.Property(i => i.Path).HasMaxLength(2000);
        builder.Property(i => i.Comment).HasMaxLength(250);
        builder.Property(i => i.CreatedBy).HasMaxLength(200);
        builder.Property(i => i.ChangedBy).HasMaxLength(200);
        builder.Property(i => i.Version).HasMaxLength(32).IsConcurrencyToken();
    }
}

/// <summary>One call in the debugger, incoming or outgoing, with secrets already redacted and bodies cut.</summary>
public sealed class CallLogEntry
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public CallDirection Direction { get; set; }
    public string? WebService { get; set; }
    public string? Invoker { get; set; }
    public string Method { get; set; } = "";
    public string Url { get; set; } = "";
    public int? StatusCode { get; set; }
    public long DurationMs { get; set; }
    /// <summary>"Name: value" lines.</summary>
    public string RequestHeaders { get; set; } = "";
    public string? RequestBody { get; set; }
    public string ResponseHeaders { get; set; } = "";
    public string? ResponseBody { get; set; }
    public string? Error { get; set; }
    public string? Caller { get; set; }
}

internal sealed class CallLogEntryConfiguration : IEntityTypeConfiguration<CallLogEntry>
{
    public void Configure(EntityTypeBuilder<CallLogEntry> builder)
    {
        builder.HasIndex(e => e.At);
        builder.HasIndex(e => new { e.WebService, e.At });
        builder.Property(e => e.WebService).HasMaxLength(100);
        builder.Property(e => e.Invoker).HasMaxLength(100);
        builder.Property(e => e.Method).HasMaxLength(10);
        builder.Property(e => e.Url).HasMaxLength(4000);
        builder.Property(e => e.Error).HasMaxLength(2000);
        builder.Property(e => e.Caller).HasMaxLength(200);
    }
}
