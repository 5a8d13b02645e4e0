using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Mail;

public enum MailAccountType { Imap = 1, Imaps = 2, ImapStartTls = 3, Pop3 = 4, Pop3s = 5, Pop3StartTls = 6, Graph = 7 }

public enum MailAuthentication { Password = 1, OAuth2 = 2 }

/// <summary>Which SASL mechanism carries the token: the best the server advertises, or one forced.</summary>
public enum MailSaslMechanism { Automatic = 0, XOAuth2 = 1, OAuthBearer = 2 }

/// <summary>A mailbox TokenAdmin fetches from (Znuny's "PostMaster Mail Account").</summary>
public sealed class MailAccount
{
    public int Id { get; set; }
    public required string Login { get; set; }
    public required string Host { get; set; }
    public MailAccountType Type { get; set; }
    public int Port { get; set; }
    public MailAuthentication Authentication { get; set; }
    public string? PasswordProtected { get; set; }
    /// <summary>Where the OAuth2 token comes from: kind + id, so functional accounts plug in beside token configs.</summary>
    public TokenSourceKind? TokenSourceKind { get; set; }
    public int? TokenSourceId { get; set; }
    public MailSaslMechanism SaslMechanism { get; set; }
    public string ImapFolder { get; set; } = "INBOX";
    public bool KeepOnServer { get; set; }
    /// <summary>Graph: the deployment (national cloud) the mailbox lives in; Custom uses <see cref="GraphEndpoint"/>.</summary>
    public GraphCloud? GraphCloud { get; set; }
    /// <summary>Graph with a custom endpoint: its service root, e.g. https://graph.example.net.</summary>
    public string? GraphEndpoint { get; set; }
    /// <summary>Graph, mail not kept: the folder (well-known name or path) fetched mail is moved to instead of being deleted.</summary>
    public string? MoveToFolder { get; set; }
    /// <summary>Graph, mail kept: the next or delta link where the next run goes on; cleared when the account changes.</summary>
    public string? GraphSyncLink { get; set; }
    public int FetchIntervalMinutes { get; set; } = 5;
    public int MaxMessagesPerRun { get; set; } = 100;
    public int MaxMessageSizeKb { get; set; } = 20 * 1024;
    public bool Valid { get; set; } = true;
    public string Comment { get; set; } = "";
    public DateTime? LastFetchAt { get; set; }
    public int? LastFetchCount { get; set; }
    public string? LastError { get; set; }
    public DateTime? LastErrorAt { get; set; }
    /// <summary>Fetches that failed in a row; 0 after one that worked.</summary>
    public int ConsecutiveFetchFailures { get; set; }
    /// <summary>The condition last alerted (failing); null when fine. Changes of it raise exactly one alert each.</summary>
    public string? AlertCondition { get; set; }
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public string Version { get; set; } = Guid.NewGuid().ToString("N");

    public bool IsImap => Type is MailAccountType.Imap or MailAccountType.Imaps or MailAccountType.ImapStartTls;

    public bool IsGraph => Type == MailAccountType.Graph;

    public TokenSource? TokenSource =>
        Authentication == MailAuthentication.OAuth2 && TokenSourceKind is { } kind && TokenSourceId is { } id ? new TokenSource(kind, id) : null;

    /// <summary>How the account is named to admins: login at host.</summary>
    public string DisplayName => $"{Login} at {Host}";

    public static int DefaultPort(MailAccountType type) => type switch
    {
        MailAccountType.Imap or MailAccountType.ImapStartTls => 143,
        MailAccountType.Imaps => 993,
        MailAccountType.Pop3 or MailAccountType.Pop3StartTls => 110,
        MailAccountType.Pop3s => 995,
        MailAccountType.Graph => 443,
        _ => 0,
    };
}

internal sealed class MailAccountConfiguration : IEntityTypeConfiguration<MailAccount>
{
    public void Configure(EntityTypeBuilder<MailAccount> builder)
    {
        builder.Property(a => a.Login).HasMaxLength(200);
        builder.Property(a => a.Host).HasMaxLength(253);
        builder.Property(a => a.ImapFolder).HasMaxLength(200);
        builder.Property(a => a.Comment).HasMaxLength(250);
        builder.Property(a => a.GraphEndpoint).HasMaxLength(300);
        builder.Property(a => a.MoveToFolder).HasMaxLength(200);
        builder.Property(a => a.GraphSyncLink).HasMaxLength(4000);
        builder.Property(a => a.LastError).HasMaxLength(2000);
        builder.Property(a => a.AlertCondition).HasMaxLength(20);
        builder.Property(a => a.CreatedBy).HasMaxLength(200);
        builder.Property(a => a.ChangedBy).HasMaxLength(200);
        builder.Property(a => a.Version).HasMaxLength(32).IsConcurrencyToken();
        builder.HasIndex(a => new { a.TokenSourceKind, a.TokenSourceId });
        builder.Ignore(a => a.TokenSource);
    }
}

/// <summary>
/// The index row of one fetched message. Its raw form is the .eml file under the data directory, written and flushed
/// before this row is committed, and both before the message is deleted or flagged on the server.
/// </summary>
public sealed class FetchedMessage
{
    public long Id { get; set; }
    public int MailAccountId { get; set; }
    /// <summary>What identifies the message on the server for good: "imap:…:UIDVALIDITY:UID", "pop3:…:UIDL" or "graph:…:immutable id".</summary>
    public required string ServerKey { get; set; }
    public string? MessageId { get; set; }
    public string From { get; set; } = "";
    public string Subject { get; set; } = "";
    public DateTime? Date { get; set; }
    public long Size { get; set; }
    /// <summary>Path of the .eml file, relative to the spool directory.</summary>
    public required string SpoolPath { get; set; }
    public DateTime FetchedAt { get; set; }
    /// <summary>Set when the message could not be parsed; it is stored raw all the same.</summary>
    public string? ParseError { get; set; }
}

internal sealed class FetchedMessageConfiguration : IEntityTypeConfiguration<FetchedMessage>
{
    public void Configure(EntityTypeBuilder<FetchedMessage> builder)
    {
        builder.Property(m => m.ServerKey).HasMaxLength(300);
        builder.HasIndex(m => new { m.MailAccountId, m.ServerKey }).IsUnique();
        builder.Property(m => m.MessageId).HasMaxLength(1000);
        builder.Property(m => m.From).HasMaxLength(1000);
        builder.Property(m => m.Subject).HasMaxLength(1000);
        builder.Property(m => m.SpoolPath).HasMaxLength(400);
        builder.Property(m => m.ParseError).HasMaxLength(1000);
        builder.HasOne<MailAccount>().WithMany().HasForeignKey(m => m.MailAccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
