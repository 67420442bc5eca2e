namespace Traceability.Ledger.Epcis;

public static class EpcisJsonLd
{
    public static string WriteEvent(EpcisEvent e) => throw new NotImplementedException();
}
