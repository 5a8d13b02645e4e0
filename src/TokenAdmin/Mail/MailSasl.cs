using System.Net;
using System.Text;
using MailKit.Security;

namespace TokenAdmin.Mail;

/// <summary>Picks and builds the SASL mechanism that carries a bearer token to a mail server.</summary>
public static class MailSasl
{
    public const string XOAuth2 = "XOAUTH2";
    public const string OAuthBearer = "OAUTHBEARER";

    /// <summary>
    /// The mechanism to use: the forced one, or in automatic mode the best one the server advertises (OAUTHBEARER, the
    /// standard of RFC 7628, before Microsoft's and Google's XOAUTH2). Null when the server offers neither.
    /// </summary>
    public static string? Choose(MailSaslMechanism wanted, IReadOnlyCollection<string> advertised) => wanted switch
    {
        MailSaslMechanism.XOAuth2 => XOAuth2,
        MailSaslMechanism.OAuthBearer => OAuthBearer,
        _ when advertised.Contains(OAuthBearer, StringComparer.OrdinalIgnoreCase) => OAuthBearer,
        _ when advertised.Contains(XOAuth2, StringComparer.OrdinalIgnoreCase) => XOAuth2,
        _ => null,
    };

    public static SaslMechanism Create(string mechanism, string login, string token) =>
        mechanism == OAuthBearer ? new SaslMechanismOAuthBearer(login, token) : new SaslMechanismOAuth2(login, token);

    /// <summary>The client's first (and only) message of the mechanism, base64-encoded, as it goes on the wire.</summary>
    public static string InitialResponse(string mechanism, string login, string token)
    {
        var text = mechanism == OAuthBearer
            ? $"n,a={login.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal)},\u0001auth=Bearer {token}\u0001\u0001"
            : $"user={login}\u0001auth=Bearer {token}\u0001\u0001";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>
    /// The longest POP3 command line, CRLF included (RFC 2449 section 4; RFC 5034 says a client MUST NOT send the
    /// initial response with AUTH when the line would be longer).
    /// </summary>
    public const int Pop3MaxCommandLine = 255;

    /// <summary>
    /// The longest IMAP command line TokenAdmin sends with SASL-IR: RFC 7162 section 4 asks servers to accept at least
    /// 8192 octets; a longer AUTHENTICATE line goes in two steps (the response on the continuation), which IMAP does not
    /// limit (RFC 4959 leaves it to the server's SASL buffer).
    /// </summary>
    public const int ImapMaxInitialResponseLine = 8192;

    /// <summary>
    /// Whether POP3's one-line form fits: "AUTH XOAUTH2 &lt;initial response&gt;" CRLF within
    /// <see cref="Pop3MaxCommandLine"/>. A JWT access token never does (it is a kilobyte or more): only short opaque
    /// tokens go in one line.
    /// </summary>
    public static bool Pop3OneLineFits(string mechanism, string login, string token) =>
        "AUTH ".Length + mechanism.Length + 1 + InitialResponse(mechanism, login, token).Length + 2 <= Pop3MaxCommandLine;

    /// <summary>
    /// Whether IMAP's "tag AUTHENTICATE XOAUTH2 &lt;initial response&gt;" CRLF fits <see cref="ImapMaxInitialResponseLine"/>
    /// (counting a tag of up to 10 characters, MailKit's is shorter).
    /// </summary>
    public static bool ImapInitialResponseFits(string mechanism, string login, string token) =>
        10 + " AUTHENTICATE ".Length + mechanism.Length + 1 + InitialResponse(mechanism, login, token).Length + 2 <= ImapMaxInitialResponseLine;

    /// <summary>
    /// POP3's one-line form "AUTH XOAUTH2 &lt;initial response&gt;" (RFC 5034 allows it). MailKit's Pop3Client always
    /// sends "AUTH &lt;mechanism name&gt;" and waits for "+": so the name it sends carries the initial response too, and
    /// the server's "+OK" ends the exchange at once. A server that still asks for more gets no answer it can use.
    /// </summary>
    public static SaslMechanism Pop3OneLine(string mechanism, string login, string token) =>
        new OneLineMechanism(mechanism + " " + InitialResponse(mechanism, login, token));

    /// <summary>
    /// The same token mechanism, sent in two steps ("AUTH XOAUTH2", wait for the continuation, then the response).
    /// SMTP needs it: Dovecot's submission service refuses an AUTH line longer than its limit, and a JWT is long;
    /// Microsoft 365 and Gmail take both forms.
    /// </summary>
    public static SaslMechanism WithoutInitialResponse(string mechanism, string login, string token) =>
        mechanism == OAuthBearer ? new SplitOAuthBearer(login, token) : new SplitXOAuth2(login, token);

    private sealed class OneLineMechanism(string nameAndResponse) : SaslMechanism(new NetworkCredential())
    {
        public override string MechanismName => nameAndResponse;

        public override bool SupportsInitialResponse => false;

        protected override byte[] Challenge(byte[]? token, int startIndex, int length, CancellationToken cancellationToken)
        {
            // Note: the server refused the one-line response with a challenge (an error report in XOAUTH2); answering
            // with an empty line ends the exchange and lets the server send its final error.
            IsAuthenticated = true;
            return [];
        }
    }

    private sealed class SplitXOAuth2(string login, string token) : SaslMechanismOAuth2(login, token)
    {
        public override bool SupportsInitialResponse => false;
    }

    private sealed class SplitOAuthBearer(string login, string token) : SaslMechanismOAuthBearer(login, token)
    {
        public override bool SupportsInitialResponse => false;
    }
}
