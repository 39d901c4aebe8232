/*
 * The DSDT every mamori guest gets (compiled by iasl at build time into
 * dsdt.hex, embedded by guest_tables.cpp). What a guest's OS finds here:
 *
 *   \_SB.TPM   MSFT0101, the TPM 2.0 window at 0xFED40000 (5 localities).
 *              tpm_tis or tpm_crb binds it; which one follows the TPM2
 *              table's start method (TCG ACPI Specification 1.3 §8.3).
 *              _STA reads TPMS, which the VMM patches to 0 for a guest
 *              with tpm = off (guest_tables.cpp, one Name, found once).
 *   \_SB.COM1  PNP0501, the 16550 at 0x3F8, IRQ 4.
 *   \_S5       SLP_TYP 5 for soft-off through PM1a_CNT (ACPI 6.4 §7.4.2,
 *              §4.8.3.2.1): the FADT's PM1a control block.
 *
 * Everything else a PC has (PCI, HPET, ...) is absent on purpose: the
 * smallest virtual platform a Linux guest needs (Firecracker's approach).
 */
DefinitionBlock ("dsdt.aml", "DSDT", 2, "MAMORI", "MAMORIVM", 0x00000001)
{
    Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })

    Scope (\_SB)
    {
        Device (TPM)
        {
            Name (TPMS, 0x0F)
            Name (_HID, "MSFT0101")
            Name (_CID, "MSFT0101")
            Name (_UID, One)
            Name (_STR, Unicode ("TPM 2.0 Device"))
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite, 0xFED40000, 0x00005000)
            })
            Method (_STA, 0, NotSerialized)
            {
                Return (TPMS)
            }
        }

        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
                IRQNoFlags () {4}
            })
            Method (_STA, 0, NotSerialized)
            {
                Return (0x0F)
            }
        }
    }
}
