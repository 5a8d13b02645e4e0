using System.Reflection;
using TokenAdmin.Tests.Admin;
using TokenAdmin.Tests.Api;
using TokenAdmin.Tests.Hosting;
using TokenAdmin.Tests.Oidc;
using TokenAdmin.Tests.Pages;
using TokenAdmin.Tests.Secrets;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.Tests.WebServices;

namespace TokenAdmin.Tests.Security;

/// <summary>
/// The security tests that live beside the feature they guard (forged tokens, CSRF, redirects, secrets absent from
/// storage and output), named here with nameof: renaming or deleting one breaks the build, and skipping one fails
/// this test. docs/security.md lists each protection with its test. The cases of issue 17 are in this folder.
/// </summary>
public sealed class SecurityCatalogTests
{
    public static readonly IReadOnlyList<(Type Class, string Test, string Protection)> Guards =
    [
        // Forged and misused API tokens
        (typeof(IncomingTokenTests), nameof(IncomingTokenTests.BadTokens_AreRefused_WithTheRightStatusAndChallenge), "forged, expired, unsigned, HS256, foreign-key and wrong-audience tokens get 401"),
        (typeof(IncomingTokenTests), nameof(IncomingTokenTests.EveryHmacAlgorithm_IsRefused_BeforeAnyKeyLookup), "no shared-secret algorithm"),
        (typeof(IncomingTokenTests), nameof(IncomingTokenTests.IdTokens_AreRefused_AsApiAccessTokens), "ID tokens with nonce, at_hash or typ ID"),
        (typeof(IncomingTokenTests), nameof(IncomingTokenTests.NoToken_Is401_WithBearerChallenge_AndNoRedirectToTheSignInPage), "the API never redirects to the sign-in page"),
        (typeof(IncomingTokenTests), nameof(IncomingTokenTests.DisablingAUserOrTakingItsRole_TakesEffectOnTheNextCall_EvenForARememberedToken), "remembered tokens do not outlive a disabled user"),
        // CSRF and admin-only pages
        (typeof(HostingTests), nameof(HostingTests.Post_WithoutAntiforgeryToken_IsRejectedWithMessage_AndChangesNothing), "CSRF token on every post"),
        (typeof(HostingTests), nameof(HostingTests.LoginPost_WithoutAntiforgeryToken_IsRejected), "CSRF token on the sign-in form"),
        (typeof(HostingTests), nameof(HostingTests.Pages_CarrySecurityHeaders), "CSP, frame and content-type headers"),
        (typeof(AuthorizationTests), nameof(AuthorizationTests.EveryAdminPage_RedirectsAnonymousUsersToLogin), "every admin page needs sign-in"),
        (typeof(AuthorizationTests), nameof(AuthorizationTests.EveryAdminPage_RefusesAnonymousPosts), "no anonymous post changes anything"),
        // Redirects and the authorization-code flow
        (typeof(LoginPageTests), nameof(LoginPageTests.Login_ToExternalReturnUrl_GoesHomeInstead), "no open redirect after sign-in"),
        (typeof(AuthorizationCodeFlowTests), nameof(AuthorizationCodeFlowTests.RequestToken_SendsBrowserToProvider_WithStatePkceAndNonce), "state, PKCE and nonce"),
        (typeof(AuthorizationCodeFlowTests), nameof(AuthorizationCodeFlowTests.Callback_WithForgedState_IsRefused_AndNothingIsStored), "forged state"),
        (typeof(AuthorizationCodeFlowTests), nameof(AuthorizationCodeFlowTests.Callback_Replayed_IsRefusedTheSecondTime), "one-time state"),
        (typeof(AuthorizationCodeFlowTests), nameof(AuthorizationCodeFlowTests.Callback_InAnotherBrowserSession_IsRefused), "state bound to the browser session"),
        (typeof(AuthorizationCodeFlowTests), nameof(AuthorizationCodeFlowTests.Callback_WithIssuerOfAnotherProvider_IsRefused), "mix-up (iss) defence"),
        (typeof(OidcSignInTests), nameof(OidcSignInTests.Callback_FromAnotherBrowser_IsRefused), "admin OIDC sign-in bound to the browser"),
        (typeof(OidcSignInTests), nameof(OidcSignInTests.SignIn_WithoutAdminClaimValue_IsRefused), "only the admin claim makes an admin"),
        // Secrets absent from storage and output
        (typeof(SecretProtectorTests), nameof(SecretProtectorTests.SavedSecret_IsNotInTheDatabaseFile_ButReadsBack), "secrets encrypted at rest"),
        (typeof(SecretProtectorTests), nameof(SecretProtectorTests.KeyRing_IsStoredInTheDatabase_EncryptedWithTheMasterKey), "key ring encrypted with the master key"),
        (typeof(SecretProtectorTests), nameof(SecretProtectorTests.MasterKeyFile_IsReadableOnlyByItsOwner), "master key file mode 600"),
        (typeof(SettingsPageTests), nameof(SettingsPageTests.SecretSetting_IsNeverRenderedBack_AndEmptyKeepsIt), "forms never render a stored secret"),
        (typeof(ProfileAndAccountPageTests), nameof(ProfileAndAccountPageTests.A_profile_added_on_the_page_is_saved_with_its_secret_encrypted_and_never_rendered_back), "client secrets never rendered back"),
        (typeof(DebuggerTests), nameof(DebuggerTests.Debugger_StoresEveryCall_AndNeverTheTokenPasswordSecretHeaderOrSecretFields), "the debugger never stores credentials"),
        (typeof(ApiInvokeAndDebuggerTests), nameof(ApiInvokeAndDebuggerTests.Invoke_NeverHandsOutOrStores_WhatTheWebServiceWasSent_OrRemoteCredentials), "invoke never leaks what the web service was sent"),
        (typeof(ApiInvokeAndDebuggerTests), nameof(ApiInvokeAndDebuggerTests.IncomingCalls_AreRecorded_WithStatusAndCaller_NeverTheToken), "incoming tokens never stored"),
        (typeof(CallRedactionTests), nameof(CallRedactionTests.RedactHeaders_MasksCredentialsCookiesAndSecretHeaders_AndKnownSecretsElsewhere), "header redaction"),
    ];

    public static TheoryData<string> GuardNames()
    {
        var data = new TheoryData<string>();
        foreach (var (type, test, _) in Guards)
        {
            data.Add($"{type.Name}.{test}");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GuardNames))]
    public void ExistingSecurityTest_IsStillARunningTest(string name)
    {
        var (type, test, protection) = Guards.Single(g => $"{g.Class.Name}.{g.Test}" == name);
        var method = type.GetMethod(test, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static);

        Assert.NotNull(method);
        var fact = method.GetCustomAttribute<FactAttribute>();
        Assert.True(fact is not null, $"{name} ({protection}) is no longer a test.");
        Assert.True(fact.Skip is null, $"{name} ({protection}) is skipped: {fact.Skip}");
    }
}
