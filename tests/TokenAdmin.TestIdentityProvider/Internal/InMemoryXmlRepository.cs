using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>
/// Keeps the ASP.NET Core Data Protection key ring (registered by the authentication services) in memory, so the
/// provider never writes keys to the user profile. Nothing the provider issues depends on these keys.
/// </summary>
internal sealed class InMemoryXmlRepository : IXmlRepository
{
    private readonly Lock _gate = new();
    private readonly List<XElement> _elements = [];

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        lock (_gate)
        {
            return [.. _elements.Select(static element => new XElement(element))];
        }
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        lock (_gate)
        {
            _elements.Add(new XElement(element));
        }
    }
}
