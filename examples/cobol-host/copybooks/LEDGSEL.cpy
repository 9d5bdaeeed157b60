      *================================================================*
      * LEDGSEL  - FILE-CONTROL ENTRIES OF THE LEDGER FILES.           *
      *            NAMES ARE RELATIVE TO COB_FILE_PATH (THE DATA DIR). *
      *================================================================*
           SELECT ACCOUNTS-FILE ASSIGN TO "ACCOUNTS"
               ORGANIZATION IS INDEXED
               ACCESS MODE IS DYNAMIC
               RECORD KEY IS AF-ACCT-NO
               FILE STATUS IS FS-ACCOUNTS.
           SELECT TXNS-FILE ASSIGN TO "TXNS"
               ORGANIZATION IS INDEXED
               ACCESS MODE IS DYNAMIC
               RECORD KEY IS TF-KEY
               FILE STATUS IS FS-TXNS.
           SELECT CONTROL-FILE ASSIGN TO "CONTROL"
               ORGANIZATION IS INDEXED
               ACCESS MODE IS DYNAMIC
               RECORD KEY IS CF-KEY
               FILE STATUS IS FS-CONTROL.
