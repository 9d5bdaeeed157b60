      *================================================================*
      * MSGPROC  - PARAGRAPHS EVERY TRANSACTION PROGRAM SHARES:        *
      *            BEGIN-MESSAGE RECEIVES THE HEADER AND TAKES THE     *
      *            TIME ONCE; FINISH-REPLY SETS HDR-RESP-CODE/MSG,     *
      *            HDR-TIMESTAMP AND HDR-MSG-LEN (THE WHOLE REPLY) AND *
      *            SENDS THE HEADER. THE BODY (WS-BODY-LEN BYTES AFTER *
      *            THE HEADER) IS THE PROGRAM'S OWN; A REFUSAL HAS     *
      *            NONE.                                               *
      *================================================================*
       BEGIN-MESSAGE.
           MOVE LENGTH OF COMM-HDR TO WS-HDR-LEN
           MOVE FUNCTION CURRENT-DATE(1:14) TO WS-NOW
           MOVE LK-COMMAREA(1:WS-HDR-LEN) TO COMM-HDR
           MOVE "0000" TO WS-RESP-CODE
           MOVE "NORMAL COMPLETION" TO WS-RESP-MSG
           MOVE 0 TO WS-BODY-LEN.
      *
       FINISH-REPLY.
           IF WS-RESP-CODE NOT = "0000"
               MOVE 0 TO WS-BODY-LEN
           END-IF
           MOVE WS-RESP-CODE TO HDR-RESP-CODE
           MOVE WS-RESP-MSG TO HDR-RESP-MSG
           MOVE WS-NOW-STAMP TO HDR-TIMESTAMP
           COMPUTE HDR-MSG-LEN = WS-HDR-LEN + WS-BODY-LEN
           MOVE COMM-HDR TO LK-COMMAREA(1:WS-HDR-LEN)
           MOVE HDR-MSG-LEN TO LK-REPLY-LEN.
      *
       LEDGER-ERROR.
           MOVE "E990" TO WS-RESP-CODE
           MOVE SPACES TO WS-RESP-MSG
           STRING "HOST: LEDGER FILE STATUS " DELIMITED BY SIZE
                  FS-ACCOUNTS "/" FS-TXNS "/" FS-CONTROL
                  DELIMITED BY SIZE INTO WS-RESP-MSG
           END-STRING.
