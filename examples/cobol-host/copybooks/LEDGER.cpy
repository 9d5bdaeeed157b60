      *================================================================*
      * LEDGER   - THE COBOL HOST'S LEDGER FILES (RECORD LAYOUTS)      *
      *            ACCOUNTS: INDEXED ON LA-ACCT-NO                     *
      *            TXNS    : INDEXED ON LT-KEY (ACCOUNT + SEQUENCE NO) *
      *            CONTROL : INDEXED ON LC-KEY (THE XFER-REF COUNTER)  *
      *            THE FRONT END SEEDS THEM THROUGH SEQUENTIAL LOAD    *
      *            FILES OF THESE SAME RECORDS (SEE LEDGLOAD).         *
      *================================================================*
       01  LEDGER-ACCT.
           05  LA-ACCT-NO              PIC X(16).
           05  LA-CUST-NAME            PIC X(30).
           05  LA-STATUS               PIC X.
               88  LA-ACTIVE           VALUE 'A'.
           05  LA-BALANCE              PIC S9(13)V99 COMP-3.
           05  LA-HOLD                 PIC S9(13)V99 COMP-3.
           05  LA-INT-RATE             PIC S9(3)V9(4) COMP-3.
           05  LA-TXN-COUNT            PIC 9(6).
      *
       01  LEDGER-TXN.
           05  LT-KEY.
               10  LT-ACCT-NO          PIC X(16).
               10  LT-SEQ              PIC 9(6).
           05  LT-DATE                 PIC 9(8).
           05  LT-TIME                 PIC 9(6).
           05  LT-TYPE                 PIC X(2).
           05  LT-AMT                  PIC S9(11)V99 COMP-3.
           05  LT-BAL                  PIC S9(13)V99 COMP-3.
           05  LT-MEMO                 PIC X(20).
      *
       01  LEDGER-CTL.
           05  LC-KEY                  PIC X(8).
           05  LC-NEXT-REF             PIC 9(10).
