using TokenAdmin.WebServices;

namespace TokenAdmin.Pages.WebServices;

public sealed record WebServiceFormView(WebServiceInput Input, bool HasPassword, IReadOnlyList<(string Value, string Name)> Sources);
