using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.WebServices;

public sealed class CallRedactionTests
{
    private const string Jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

    [Fact]
    public void RedactBody_MasksSecretFieldsOfAFormBody_AndKeepsTheOthers()
    {
        var body = "grant_type=refresh_token&refresh_token=rt-123456&client_id=app&client_secret=s3cr3t-value&code=abc123&scope=openid";

        var redacted = CallRedaction.RedactBody(body, []);

        Assert.Equal("grant_type=refresh_token&refresh_token=[redacted]&client_id=app&client_secret=[redacted]&code=[redacted]&scope=openid", redacted);
    }

    [Fact]
    public void RedactUrl_MasksSecretQueryParameters()
    {
        var url = "https://api.example.test/cb?code=xyz987&state=s1&id_token=abc.def&Password=p4ss";

        Assert.Equal("https://api.example.test/cb?code=[redacted]&state=s1&id_token=[redacted]&Password=[redacted]", CallRedaction.RedactUrl(url, []));
    }

    [Fact]
    public void RedactBody_MasksJsonSecretsAtAnyDepth_EvenInsideJsonCarriedAsAString()
    {
        var body = """{"items":[{"accessToken":"at-1","name":"n"}],"assertion":"as-2","error":{"code":500},"payload":"{\"clientSecret\":\"cs-3\"}"}""";

        var redacted = CallRedaction.RedactBody(body, []);

        Assert.DoesNotContain("at-1", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("as-2", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("cs-3", redacted, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"n\"", redacted, StringComparison.Ordinal);
        // A numeric error code is no authorization code.
        Assert.Contains("\"code\":500", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void RedactBody_MasksSecretsInJsonThatIsCut_AndJwtsAndBearerCredentialsAnywhere()
    {
        var cut = """{"password":"hunter2-long","text":"abc""";
        var text = $"token in prose {Jwt} and Authorization: Bearer opaque-token-0123456789 end";

        Assert.Equal("""{"password":"[redacted]","text":"abc""", CallRedaction.RedactBody(cut, []));
        Assert.Equal("token in prose [redacted JWT] and Authorization: Bearer [redacted] end", CallRedaction.RedactBody(text, []));
    }

    [Fact]
    public void RedactHeaders_MasksCredentialsCookiesAndSecretHeaders_AndKnownSecretsElsewhere()
    {
        KeyValuePair<string, string>[] headers =
        [
            new("Authorization", "Basic b3RvYm86cGFzc3dvcmQx"),
            new("Cookie", "sid=abcdef"),
            new("X-Custom", "k-998877"),
            new("X-Api-Key", "apikey-1"),
            new("X-Echo", "got k-998877 and password1"),
        ];
        var secretHeaders = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "X-Custom" };
        var known = CallRedaction.KnownSecrets(headers, secretHeaders);

        var text = CallRedaction.RedactHeaders(headers, secretHeaders, known);

        Assert.Equal("Authorization: Basic [redacted]\nCookie: [redacted]\nX-Custom: [redacted]\nX-Api-Key: [redacted]\nX-Echo: got [redacted] and [redacted]\n", text);
    }
}
