      *================================================================*
      * LEDGFD   - FILE DESCRIPTIONS OF THE LEDGER FILES. THE RECORDS  *
      *            ARE READ INTO / WRITTEN FROM LEDGER.cpy'S LAYOUTS;  *
      *            THE LENGTHS HERE MUST MATCH THEM (LEDGLOAD CHECKS). *
      *================================================================*
       FD  ACCOUNTS-FILE.
       01  AF-REC.
           05  AF-ACCT-NO              PIC X(16).
           05  FILLER                  PIC X(57).
       FD  TXNS-FILE.
       01  TF-REC.
           05  TF-KEY                  PIC X(22).
           05  FILLER                  PIC X(51).
       FD  CONTROL-FILE.
       01  CF-REC.
           05  CF-KEY                  PIC X(8).
           05  FILLER                  PIC X(10).
