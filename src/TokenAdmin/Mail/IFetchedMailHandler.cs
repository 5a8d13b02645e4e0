namespace TokenAdmin.Mail;

/// <summary>A message that is stored for good (its .eml on disk, its index row committed).</summary>
public sealed record FetchedMail(MailAccount Account, FetchedMessage Message, string SpoolFile);

/// <summary>
/// What later code does with fetched mail (create a ticket, forward it, ...). Handlers run after the message is stored
/// and before it is deleted on the server; a failing handler is reported on the account and never loses the message.
/// </summary>
public interface IFetchedMailHandler
{
    Task HandleAsync(FetchedMail mail, CancellationToken cancellationToken);
}
