using TokenAdmin.Mail;

namespace TokenAdmin.Pages.MailAccounts;

public sealed record MailAccountFormView(MailAccountInput Input, bool HasPassword, IReadOnlyList<(string Value, string Name)> Sources);
