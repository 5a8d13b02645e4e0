using System.Text;
using System.Text.Encodings.Web;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// The plain HTML login page of the authorization endpoint.
/// </summary>
/// <remarks>
/// There is deliberately no antiforgery token on this form: this is a local test tool, not a production login page.
/// </remarks>
internal static class LoginPage
{
    public const string InvalidCredentialsMessage = "Invalid user name or password.";

    private static readonly HashSet<string> FormFields = new(StringComparer.Ordinal) { "username", "password" };

    public static string Render(OpenIddictRequest request, string? error)
    {
        var html = HtmlEncoder.Default;
        var builder = new StringBuilder(2048);
        builder.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<title>Sign in - TokenAdmin test identity provider</title>\n")
            .Append("<style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto}label,input,button{display:block;margin:.4rem 0}.error{color:#b00020}</style>\n")
            .Append("</head>\n<body>\n<main>\n<h1>Sign in</h1>\n")
            .Append("<p>TokenAdmin test identity provider. Client: <code>")
            .Append(html.Encode(request.ClientId ?? "(unknown)"))
            .Append("</code></p>\n");

        if (error is not null)
        {
            builder.Append("<p class=\"error\" role=\"alert\">").Append(html.Encode(error)).Append("</p>\n");
        }

        builder.Append("<form method=\"post\">\n");
        foreach (var (name, parameter) in request.GetParameters())
        {
            if (FormFields.Contains(name))
            {
                continue;
            }

            foreach (var value in GetValues(parameter))
            {
                builder.Append("<input type=\"hidden\" name=\"").Append(html.Encode(name))
                    .Append("\" value=\"").Append(html.Encode(value)).Append("\">\n");
            }
        }

        builder.Append("<label for=\"username\">User name</label><input id=\"username\" name=\"username\">\n")
            .Append("<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\">\n")
            .Append("<button type=\"submit\">Sign in</button>\n")
            .Append("</form>\n</main>\n</body>\n</html>\n");
        return builder.ToString();
    }

    private static IEnumerable<string> GetValues(OpenIddictParameter parameter) =>
        ((StringValues)parameter).OfType<string>();
}
