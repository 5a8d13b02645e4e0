using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Forms;

/// <summary>
/// What _ClientAuthentication.cshtml renders: the client-authentication fields of a token config or a functional
/// account (asp-for "Input.X": the labels are on <see cref="IClientCredentialInput"/>, the messages in ModelState).
/// </summary>
/// <param name="ProfileCertificate">For a functional account: whether its profile has a client certificate for mutual TLS.</param>
public sealed record ClientAuthenticationView(IClientCredentialInput Input, ClientCertificate? Stored, bool? ProfileCertificate = null);
